#!/usr/bin/env bash
# Removes one node's VM, its disk and its cloud-init seed, then every base image that no node
# uses any more. Idempotent: what libvirt lists as absent is done. Anything else fails the
# delete with libvirt's own message (no access, a wrong URI, a missing pool), so that Pulumi
# keeps the VM in its state; and a domain with the node's name that oslo-mesh did not make for
# this stack and node is never touched.
set -euo pipefail

# oslo-mesh:include libvirt-common.sh

domains=$(domain_list)
if listed "${DOMAIN}" "${domains}"; then
  xml=$(virsh_ dumpxml "${DOMAIN}")
  require_ours delete "${xml}"
  state=$(virsh_ domstate "${DOMAIN}")
  info=$(virsh_ dominfo "${DOMAIN}")
  if [ "${state}" != "shut off" ]; then
    say "stopping the domain (${state})"
    virsh_ destroy "${DOMAIN}" >/dev/null
  fi
  # A transient domain is gone once stopped; a persistent one is undefined with its managed-save
  # image (libvirt-guests saves VMs at host shutdown), snapshot and checkpoint metadata and NVRAM.
  if grep -qE '^Persistent: +yes$' <<<"${info}"; then
    flags=(--managed-save --snapshots-metadata --nvram)
    help=$(virsh_ help undefine)
    if grep -q -- '--checkpoints-metadata' <<<"${help}"; then flags+=(--checkpoints-metadata); fi
    say "undefining the domain"
    virsh_ undefine "${DOMAIN}" "${flags[@]}" >/dev/null
  fi
fi

volumes=$(volume_list)
for volume in "${DISK_VOLUME}" "${SEED_VOLUME}"; do
  if listed "${volume}" "${volumes}"; then
    virsh_ vol-delete --pool "${POOL}" "${volume}" >/dev/null
  fi
done
prune_images
echo "deleted ${DOMAIN}"
