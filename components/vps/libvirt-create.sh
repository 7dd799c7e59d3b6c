#!/usr/bin/env bash
# Creates one node's VM on a libvirt hypervisor, or finds it and puts it right: a copy-on-write
# disk in the NVMe pool from the pool's node image (NODE_IMAGE, made by libvirt-node-image.sh)
# or, without one, from the verified base image, a cloud-init NoCloud seed, and a domain
# defined persistently (with oslo-mesh's mark in its <metadata>) before it is started.
# Idempotent, and safe to stop anywhere: a run converges whatever an earlier run left: a domain
# of ours is made persistent, autostarted and running (resumed when paused, restored when
# managed-saved); a domain that is not ours is never touched. Prints `ip=<address>` last.
set -euo pipefail

# oslo-mesh:include libvirt-common.sh

for tool in virt-install qemu-img genisoimage curl; do
  command -v "${tool}" >/dev/null || fail "the hypervisor lacks ${tool}"
done
case "${NETWORK_MODE}" in
  network) require_name NETWORK "${NETWORK_NAME}" ;;
  bridge) require_name BRIDGE "${BRIDGE}" ;;
  none) ;;
  *) fail "unknown NETWORK_MODE ${NETWORK_MODE}" ;;
esac

# oslo-mesh:include libvirt-base-image.sh

# The pool's node image, complete, when there is one: IMAGE_VOLUME=NODE_IMAGE. It is not verified
# again (it was built in this pool, never downloaded). Holds the pool lock from here until the
# node's disk exists; without the image, releases it, says why, and leaves IMAGE_VOLUME empty.
use_node_image() {
  local volumes
  pool_lock
  volumes=$(volume_list)
  if listed "${NODE_IMAGE}" "${volumes}" && ! listed "${NODE_IMAGE}.partial" "${volumes}"; then
    IMAGE_VOLUME=${NODE_IMAGE}
    IMAGE_FORMAT=$(image_format)
    return
  fi
  say "pool ${POOL} has no complete node image ${NODE_IMAGE}: the disk comes from the base image, and node preparation installs everything"
  release_pool_lock
}

# --- The node's own volumes ---------------------------------------------------------------

make_disk() {
  say "creating the ${DISK_GIB} GiB disk from ${IMAGE_VOLUME}"
  volume_on_image "${DISK_VOLUME}" "${DISK_GIB}"
}

make_seed() {
  make_seed_iso "${USER_DATA}" "${META_DATA}" "${NETWORK_CONFIG}"
  upload_volume "${SEED_VOLUME}" "${work}/seed.iso"
}

# --- The domain ---------------------------------------------------------------------------

# The domain's XML from virt-install (which only prints it), with oslo-mesh's mark added to its
# <metadata>. --os-variant is the spelling every virt-install accepts: --osinfo is an alias
# added in virt-manager 3.0.0 (virtinst/cli.py, commit 67703ec7a); 2.2.1 (Ubuntu 20.04, RHEL 8)
# knows only --os-variant, and 4.x and 5.x take both.
define_domain() {
  local network mark
  case "${NETWORK_MODE}" in
    network) network="--network=network=${NETWORK_NAME},model=virtio" ;;
    bridge) network="--network=bridge=${BRIDGE},model=virtio" ;;
    none) network="--network=none" ;;
  esac
  virt-install --connect "${LIBVIRT_URI}" --name "${DOMAIN}" --virt-type "${VIRT_TYPE}" \
    --vcpus "${VCPUS}" --memory "${MEMORY_MIB}" --cpu "${CPU}" --os-variant "${OS_VARIANT}" \
    --import --disk "vol=${POOL}/${DISK_VOLUME},bus=virtio,cache=none,io=native" \
    --disk "vol=${POOL}/${SEED_VOLUME},device=cdrom" \
    "${network}" --graphics none --noautoconsole --print-xml >"${work}/virt-install.xml"
  mark="<oslo-mesh:vm xmlns:oslo-mesh=\"${METADATA_NS}\" stack=\"${STACK}\" node=\"${DOMAIN}\" image=\"${IMAGE_VOLUME}\"/>"
  mark_domain_xml "${mark}" "${work}/virt-install.xml" "${work}/domain.xml"
  say "defining the domain"
  virsh_ define "${work}/domain.xml" >/dev/null
}

# A domain of ours: persistent, autostarted and running, whatever state it is in.
converge_domain() {
  local info state
  info=$(virsh_ dominfo "${DOMAIN}")
  # dominfo prints "Persistent:     yes|no" and "Autostart:      enable|disable" (tools/virsh-domain-monitor.c).
  if ! grep -qE '^Persistent: +yes$' <<<"${info}"; then
    say "the domain is transient: defining it persistently"
    virsh_ dumpxml "${DOMAIN}" >"${work}/live.xml"
    virsh_ define "${work}/live.xml" >/dev/null
  fi
  if ! grep -qE '^Autostart: +enable$' <<<"${info}"; then
    say "enabling autostart"
    virsh_ autostart "${DOMAIN}" >/dev/null
  fi
  for _ in $(seq 1 60); do
    state=$(virsh_ domstate "${DOMAIN}")
    case "${state}" in
      running) return 0 ;;
      paused) say "resuming the paused domain"; virsh_ resume "${DOMAIN}" >/dev/null ;;
      "shut off") say "starting it (a managed save is restored)"; virsh_ start "${DOMAIN}" >/dev/null ;;
      crashed) say "restarting the crashed domain"; virsh_ destroy "${DOMAIN}" >/dev/null; virsh_ start "${DOMAIN}" >/dev/null ;;
      pmsuspended) say "waking the suspended domain"; virsh_ dompmwakeup "${DOMAIN}" >/dev/null ;;
      "in shutdown") sleep 1 ;;
      *) fail "the domain is in state '${state}'" ;;
    esac
  done
  fail "the domain did not reach the running state (last: ${state})"
}

domains=$(domain_list)
if listed "${DOMAIN}" "${domains}"; then
  xml=$(virsh_ dumpxml "${DOMAIN}")
  require_ours adopt "${xml}"
  say "the domain exists"
else
  # Volumes of ours without a domain are what a stopped run left: made again from scratch.
  volumes=$(volume_list)
  for volume in "${DISK_VOLUME}" "${SEED_VOLUME}"; do
    if listed "${volume}" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${volume}" >/dev/null; fi
  done
  IMAGE_VOLUME=""
  if [ -n "${NODE_IMAGE}" ]; then use_node_image; fi
  if [ -z "${IMAGE_VOLUME}" ]; then ensure_image; fi
  make_disk
  release_pool_lock
  make_seed
  define_domain
fi
converge_domain

ip="${STATIC_IP}"
if [ -z "${ip}" ] && [ "${NETWORK_MODE}" = network ]; then
  for _ in $(seq 1 "${IP_WAIT_SECONDS}"); do
    ip=$(virsh_ domifaddr "${DOMAIN}" --source lease | awk '$3 == "ipv4" { sub(/\/.*/, "", $4); print $4; exit }')
    [ -n "${ip}" ] && break
    sleep 1
  done
  [ -n "${ip}" ] || fail "no DHCP lease for ${DOMAIN} after ${IP_WAIT_SECONDS}s"
fi
echo "ip=${ip}"
