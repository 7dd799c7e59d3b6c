# The base cloud image of a pool, verified (included by libvirt-create.sh and libvirt-node-image.sh,
# after libvirt-common.sh). Parameters: IMAGE_URL IMAGE_SHA256 IMAGE_CHECKSUM_URL.

pool_xml=$(virsh_ pool-dumpxml "${POOL}")
pool_type=$(sed -n "s/^<pool type='\([a-z]*\)'.*/\1/p" <<<"${pool_xml}")
case "${pool_type}" in
  dir|fs|netfs) file_pool=true ;;
  logical) file_pool=false ;;
  *) fail "storage pool ${POOL} has type '${pool_type}'; expected dir, fs, netfs or logical" ;;
esac

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

# A volume of GIB GiB whose content starts as the image volume's: a copy-on-write qcow2 on it
# in a file pool, a resized clone in a logical one.
volume_on_image() { # VOLUME GIB
  if [ "${file_pool}" = true ]; then
    virsh_ vol-create-as "${POOL}" "$1" "$2G" --format qcow2 \
      --backing-vol "${IMAGE_VOLUME}" --backing-vol-format "${IMAGE_FORMAT}" >/dev/null
  else
    virsh_ vol-clone --pool "${POOL}" "${IMAGE_VOLUME}" "$1" >/dev/null
    virsh_ vol-resize --pool "${POOL}" "$1" "$2G" >/dev/null
  fi
}
