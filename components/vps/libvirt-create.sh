#!/usr/bin/env bash
# Creates one node's VM on a libvirt hypervisor, or finds it: a copy-on-write disk from the
# base cloud image in the NVMe pool, a cloud-init NoCloud seed, then virt-install --import.
# Idempotent: an existing domain is kept as it is (started if it is stopped); the pieces of a
# run that failed halfway are reused or replaced. Prints `ip=<address>` last.
set -euo pipefail

log() { echo "[vps create ${DOMAIN}] $*" >&2; }
virsh_() { virsh --quiet --connect "${LIBVIRT_URI}" "$@"; }
vol_exists() { virsh_ vol-info --pool "${POOL}" "$1" >/dev/null 2>&1; }

for tool in virsh virt-install qemu-img genisoimage curl; do
  command -v "${tool}" >/dev/null || { echo "the hypervisor lacks ${tool}" >&2; exit 1; }
done

DISK_VOLUME="${DOMAIN}-disk"
SEED_VOLUME="${DOMAIN}-seed"
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

pool_type=$(virsh_ pool-dumpxml "${POOL}" | sed -n "s/^<pool type='\([a-z]*\)'.*/\1/p")
case "${pool_type}" in
  dir|fs|netfs) disk_format=qcow2 ;;
  logical) disk_format=raw ;;
  *) echo "storage pool ${POOL} has type '${pool_type}'; expected dir or logical" >&2; exit 1 ;;
esac

upload() { # volume file format
  virsh_ vol-create-as "${POOL}" "$1" "$(stat -c %s "$2")" --format "$3" >/dev/null
  virsh_ vol-upload --pool "${POOL}" "$1" "$2"
}

ensure_base_image() {
  vol_exists "${BASE_VOLUME}" && return 0
  log "fetching the base image ${BASE_IMAGE_URL}"
  curl -fsSL --retry 3 -o "${work}/download" "${BASE_IMAGE_URL}"
  qemu-img convert -O "${disk_format}" "${work}/download" "${work}/base"
  upload "${BASE_VOLUME}" "${work}/base" "${disk_format}"
}

ensure_disk() {
  vol_exists "${DISK_VOLUME}" && return 0
  log "creating the ${DISK_GIB} GiB disk from ${BASE_VOLUME}"
  if [ "${disk_format}" = qcow2 ]; then
    virsh_ vol-create-as "${POOL}" "${DISK_VOLUME}" "${DISK_GIB}G" --format qcow2 \
      --backing-vol "${BASE_VOLUME}" --backing-vol-format qcow2 >/dev/null
  else
    virsh_ vol-clone --pool "${POOL}" "${BASE_VOLUME}" "${DISK_VOLUME}" >/dev/null
    virsh_ vol-resize --pool "${POOL}" "${DISK_VOLUME}" "${DISK_GIB}G" >/dev/null
  fi
}

write_seed() {
  # The seed is rebuilt while the domain does not exist yet, so it always says what the config says.
  mkdir -p "${work}/seed"
  printf '%s' "${USER_DATA}" >"${work}/seed/user-data"
  printf '%s' "${META_DATA}" >"${work}/seed/meta-data"
  printf '%s' "${NETWORK_CONFIG}" >"${work}/seed/network-config"
  genisoimage -quiet -output "${work}/seed.iso" -volid cidata -joliet -rock \
    "${work}/seed/user-data" "${work}/seed/meta-data" "${work}/seed/network-config"
  if vol_exists "${SEED_VOLUME}"; then virsh_ vol-delete --pool "${POOL}" "${SEED_VOLUME}" >/dev/null; fi
  upload "${SEED_VOLUME}" "${work}/seed.iso" raw
}

network_args() {
  case "${NETWORK_MODE}" in
    network) echo "--network=network=${NETWORK_NAME},model=virtio" ;;
    bridge) echo "--network=bridge=${BRIDGE},model=virtio" ;;
    none) echo "--network=none" ;;
    *) echo "unknown NETWORK_MODE ${NETWORK_MODE}" >&2; return 1 ;;
  esac
}

if virsh_ dominfo "${DOMAIN}" >/dev/null 2>&1; then
  log "the domain exists"
  if [ "$(virsh_ domstate "${DOMAIN}")" != "running" ]; then
    log "starting it"
    virsh_ start "${DOMAIN}" >/dev/null
  fi
else
  ensure_base_image
  ensure_disk
  write_seed
  log "defining and starting the domain"
  virt-install --connect "${LIBVIRT_URI}" --name "${DOMAIN}" --virt-type "${VIRT_TYPE}" \
    --vcpus "${VCPUS}" --memory "${MEMORY_MIB}" --cpu "${CPU}" --osinfo "${OS_VARIANT}" \
    --import --disk "vol=${POOL}/${DISK_VOLUME},bus=virtio,cache=none,io=native" \
    --disk "vol=${POOL}/${SEED_VOLUME},device=cdrom" \
    "$(network_args)" --graphics none --noautoconsole --autostart >/dev/null
fi

ip="${STATIC_IP}"
if [ -z "${ip}" ] && [ "${NETWORK_MODE}" = network ]; then
  for _ in $(seq 1 "${IP_WAIT_SECONDS}"); do
    ip=$(virsh_ domifaddr "${DOMAIN}" --source lease | awk '$3 == "ipv4" { sub(/\/.*/, "", $4); print $4; exit }')
    [ -n "${ip}" ] && break
    sleep 1
  done
  [ -n "${ip}" ] || { echo "no DHCP lease for ${DOMAIN} after ${IP_WAIT_SECONDS}s" >&2; exit 1; }
fi
echo "ip=${ip}"
