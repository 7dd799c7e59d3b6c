#!/usr/bin/env bash
# Creates one node's VM on a libvirt hypervisor, or finds it and puts it right: a verified base
# image, a copy-on-write disk from it in the NVMe pool, a cloud-init NoCloud seed, and a domain
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

pool_xml=$(virsh_ pool-dumpxml "${POOL}")
pool_type=$(sed -n "s/^<pool type='\([a-z]*\)'.*/\1/p" <<<"${pool_xml}")
case "${pool_type}" in
  dir|fs|netfs) file_pool=true ;;
  logical) file_pool=false ;;
  *) fail "storage pool ${POOL} has type '${pool_type}'; expected dir, fs, netfs or logical" ;;
esac

# --- The base image -----------------------------------------------------------------------

# The sha256 the image must have: pinned, or the publisher's line for the image's file name.
expected_sha256() {
  local file sums
  if [ -n "${IMAGE_SHA256}" ]; then
    printf '%s\n' "${IMAGE_SHA256}"
    return
  fi
  [ -n "${IMAGE_CHECKSUM_URL}" ] || fail "no sha256 for ${IMAGE_URL}: set vps.image.sha256 or vps.image.checksumUrl"
  curl -fsSL --retry 3 -o "${work}/SHA256SUMS" "${IMAGE_CHECKSUM_URL}"
  file=${IMAGE_URL##*/}
  file=${file%%\?*}
  # sha256sum's format: "<sha256> <space or *><file name>". (No regex intervals: mawk lacks them.)
  sums=$(FILE="${file}" awk '{ name = $2; sub(/^\*/, "", name) } name == ENVIRON["FILE"] && length($1) == 64 && $1 ~ /^[0-9a-f]+$/ { print $1 }' "${work}/SHA256SUMS" | sort -u)
  [ "$(grep -c . <<<"${sums}")" = 1 ] || fail "${IMAGE_CHECKSUM_URL} lists no single sha256 for ${file}: pin vps.image.sha256 instead"
  printf '%s\n' "${sums}"
}

sha256_of_volume() { virsh_ vol-download --pool "${POOL}" "$1" /dev/stdout | sha256sum | cut -d' ' -f1; }

# The base image as a volume of the pool, verified: IMAGE_VOLUME=oslo-mesh-image-<sha256>. It is
# written under a .partial mark that goes only once the upload is complete, so a run stopped
# halfway leaves a mark, never an image that looks whole. In a dir pool the volume holds the
# published bytes unchanged, and a present one is used only if its sha256 still matches.
# Holds the pool lock from here until the node's disk exists.
ensure_image() {
  local sha volumes partial got refs users format info size
  sha=$(expected_sha256)
  IMAGE_VOLUME="oslo-mesh-image-${sha:0:32}"
  partial="${IMAGE_VOLUME}.partial"
  pool_lock
  volumes=$(volume_list)
  if listed "${partial}" "${volumes}"; then
    say "an earlier run stopped while writing ${IMAGE_VOLUME}: writing it again"
    if listed "${IMAGE_VOLUME}" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${IMAGE_VOLUME}" >/dev/null; fi
    virsh_ vol-delete --pool "${POOL}" "${partial}" >/dev/null
  elif listed "${IMAGE_VOLUME}" "${volumes}"; then
    IMAGE_FORMAT=$(image_format)
    [ "${file_pool}" = true ] || return 0
    got=$(sha256_of_volume "${IMAGE_VOLUME}")
    [ "${got}" != "${sha}" ] || return 0
    refs=$(references)
    users=$(grep -cF -- "${IMAGE_VOLUME}" <<<"${refs}" || true)
    [ "${users}" = 0 ] || fail "base image ${IMAGE_VOLUME} in pool ${POOL} has sha256 ${got}, not ${sha}, and disks use it: repair or remove it by hand"
    say "base image ${IMAGE_VOLUME} has sha256 ${got}, not ${sha}: replacing it"
    virsh_ vol-delete --pool "${POOL}" "${IMAGE_VOLUME}" >/dev/null
  fi

  say "fetching the base image ${IMAGE_URL}"
  curl -fsSL --retry 3 -o "${work}/image" "${IMAGE_URL}"
  got=$(sha256sum "${work}/image" | cut -d' ' -f1)
  [ "${got}" = "${sha}" ] || fail "${IMAGE_URL} has sha256 ${got}, expected ${sha} ($([ -n "${IMAGE_SHA256}" ] && echo "vps.image.sha256" || echo "${IMAGE_CHECKSUM_URL}")): nothing was created"
  info=$(qemu-img info --output=json "${work}/image")
  format=$(sed -n 's/^    "format": "\([a-z0-9]*\)",*$/\1/p' <<<"${info}" | head -n 1)
  ! grep -q '"backing-filename"' <<<"${info}" || fail "${IMAGE_URL} refers to a backing file: refusing it"
  if [ "${file_pool}" = true ]; then
    case "${format}" in
      qcow2|raw) IMAGE_FORMAT=${format} ;;
      *) fail "${IMAGE_URL} is a ${format:-unknown} image; expected qcow2 or raw" ;;
    esac
  else
    qemu-img convert -O raw "${work}/image" "${work}/image.raw"
    mv "${work}/image.raw" "${work}/image"
    IMAGE_FORMAT=raw
  fi
  size=$(stat -c %s "${work}/image")
  virsh_ vol-create-as "${POOL}" "${partial}" 1 --format raw >/dev/null
  virsh_ vol-create-as "${POOL}" "${IMAGE_VOLUME}" "${size}" --format "${IMAGE_FORMAT}" >/dev/null
  virsh_ vol-upload --pool "${POOL}" "${IMAGE_VOLUME}" "${work}/image"
  if [ "${file_pool}" = true ]; then
    got=$(sha256_of_volume "${IMAGE_VOLUME}")
    [ "${got}" = "${sha}" ] || fail "the uploaded ${IMAGE_VOLUME} has sha256 ${got}, not ${sha}"
  fi
  virsh_ vol-delete --pool "${POOL}" "${partial}" >/dev/null
  rm -f "${work}/image"
}

image_format() { # of the present image volume, as libvirt sees it
  local xml
  xml=$(virsh_ vol-dumpxml --pool "${POOL}" "${IMAGE_VOLUME}")
  sed -n "s/^ *<format type='\([a-z0-9]*\)'\/>$/\1/p" <<<"${xml}" | head -n 1
}

# --- The node's own volumes ---------------------------------------------------------------

make_disk() {
  say "creating the ${DISK_GIB} GiB disk from ${IMAGE_VOLUME}"
  if [ "${file_pool}" = true ]; then
    virsh_ vol-create-as "${POOL}" "${DISK_VOLUME}" "${DISK_GIB}G" --format qcow2 \
      --backing-vol "${IMAGE_VOLUME}" --backing-vol-format "${IMAGE_FORMAT}" >/dev/null
  else
    virsh_ vol-clone --pool "${POOL}" "${IMAGE_VOLUME}" "${DISK_VOLUME}" >/dev/null
    virsh_ vol-resize --pool "${POOL}" "${DISK_VOLUME}" "${DISK_GIB}G" >/dev/null
  fi
}

make_seed() {
  mkdir -p "${work}/seed"
  printf '%s' "${USER_DATA}" >"${work}/seed/user-data"
  printf '%s' "${META_DATA}" >"${work}/seed/meta-data"
  printf '%s' "${NETWORK_CONFIG}" >"${work}/seed/network-config"
  genisoimage -quiet -output "${work}/seed.iso" -volid cidata -joliet -rock \
    "${work}/seed/user-data" "${work}/seed/meta-data" "${work}/seed/network-config"
  virsh_ vol-create-as "${POOL}" "${SEED_VOLUME}" "$(stat -c %s "${work}/seed.iso")" --format raw >/dev/null
  virsh_ vol-upload --pool "${POOL}" "${SEED_VOLUME}" "${work}/seed.iso"
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
  MARK="${mark}" awk '
    /^  <\/metadata>$/ && !done { print "    " ENVIRON["MARK"]; done = 1 }
    /^<\/domain>$/ && !done { print "  <metadata>"; print "    " ENVIRON["MARK"]; print "  </metadata>"; done = 1 }
    { print }
    END { if (!done) exit 1 }' "${work}/virt-install.xml" >"${work}/domain.xml"
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
  ensure_image
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
