#!/usr/bin/env bash
# Removes one node's VM, its disk and its cloud-init seed. Idempotent: what is already gone
# is fine. The shared base image stays for the other nodes.
set -euo pipefail

virsh_() { virsh --quiet --connect "${LIBVIRT_URI}" "$@"; }

if virsh_ dominfo "${DOMAIN}" >/dev/null 2>&1; then
  if [ "$(virsh_ domstate "${DOMAIN}")" != "shut off" ]; then
    virsh_ destroy "${DOMAIN}" >/dev/null
  fi
  virsh_ undefine "${DOMAIN}" --remove-all-storage >/dev/null
fi
for volume in "${DOMAIN}-disk" "${DOMAIN}-seed"; do
  if virsh_ vol-info --pool "${POOL}" "${volume}" >/dev/null 2>&1; then
    virsh_ vol-delete --pool "${POOL}" "${volume}" >/dev/null
  fi
done
echo "deleted ${DOMAIN}"
