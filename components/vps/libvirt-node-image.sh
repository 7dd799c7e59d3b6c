#!/usr/bin/env bash
# Makes the node image of a hypervisor's pool, or finds it made: NODE_IMAGE, a copy-on-write disk
# of the verified base image on which a builder VM ran the node preparation (install only, no node
# identity; its cloud-init seed is USER_DATA) and powered off. Node disks back onto it, so node
# preparation finds everything installed. The image is named after its recipe and shared by the
# stacks on this pool; this stack's hold volume (HOLD_VOLUME) keeps it while the stack needs it.
# One build per pool and recipe at a time; a run that finds the image complete only takes its hold.
# A run converges whatever an earlier one left (a builder, a half-made image under its .partial
# mark) by removing it and building again; a build that fails or outlasts BUILD_TIMEOUT_SECONDS
# leaves nothing behind and says why. Prints `node-image=<volume>` last.
set -euo pipefail

# oslo-mesh:include libvirt-common.sh

for tool in virt-install qemu-img genisoimage curl; do
  command -v "${tool}" >/dev/null || fail "the hypervisor lacks ${tool}"
done
case "${BUILDER_NETWORK}" in
  user | none) ;;
  *) fail "unknown BUILDER_NETWORK ${BUILDER_NETWORK}" ;;
esac
is_node_image "${NODE_IMAGE}" || fail "NODE_IMAGE '${NODE_IMAGE}' is not a node image's name"
require_name HOLD_VOLUME "${HOLD_VOLUME}"

# oslo-mesh:include libvirt-base-image.sh

partial="${NODE_IMAGE}.partial"
seed_volume="${NODE_IMAGE}.seed"
result_volume="${NODE_IMAGE}.result"

# One build of this recipe in this pool at a time, whichever stack or run asks: a second waits and
# then finds the image complete.
build_lock() {
  local dir=/run/lock key
  if [ ! -d "${dir}" ] || [ ! -w "${dir}" ]; then dir="${XDG_RUNTIME_DIR:-/tmp}"; fi
  key=$(printf '%s\n%s\n%s\n' "${LIBVIRT_URI}" "${POOL}" "${NODE_IMAGE}" | sha256sum | cut -c1-16)
  exec 7>>"${dir}/oslo-mesh-node-image-${key}.lock"
  if ! flock -w $((BUILD_TIMEOUT_SECONDS + 600)) 7; then fail "another run has been building ${NODE_IMAGE} in pool ${POOL} for too long (${dir}/oslo-mesh-node-image-${key}.lock)"; fi
}

# The builder's mark: <oslo-mesh:node-image xmlns:oslo-mesh="METADATA_NS" image=".."/>.
require_builder() { # XML
  local mark
  mark=$(mark_of "$1")
  if [ -z "${mark}" ] || [[ ${mark} != *"<oslo-mesh:node-image "* ]] || [ "$(mark_attr image "${mark}")" != "${NODE_IMAGE}" ]; then
    fail "domain ${DOMAIN} on ${LIBVIRT_URI} is not the builder of ${NODE_IMAGE} (no such <oslo-mesh:node-image> mark in its <metadata>): refusing to touch it. Remove or rename that domain yourself."
  fi
}

# Removes what a build leaves until it is complete: the builder, its seed and result, and the
# half-made image with its .partial mark. Never a complete image.
remove_build() {
  local domains volumes xml
  domains=$(domain_list)
  if listed "${DOMAIN}" "${domains}"; then
    xml=$(virsh_ dumpxml "${DOMAIN}")
    require_builder "${xml}"
    if [ "$(virsh_ domstate "${DOMAIN}")" != "shut off" ]; then virsh_ destroy "${DOMAIN}" >/dev/null; fi
    virsh_ undefine "${DOMAIN}" --managed-save --snapshots-metadata --nvram >/dev/null
  fi
  volumes=$(volume_list)
  for volume in "${seed_volume}" "${result_volume}"; do
    if listed "${volume}" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${volume}" >/dev/null; fi
  done
  if listed "${partial}" "${volumes}"; then
    if listed "${NODE_IMAGE}" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${NODE_IMAGE}" >/dev/null; fi
    virsh_ vol-delete --pool "${POOL}" "${partial}" >/dev/null
  fi
}

fail_build() {
  say "$*"
  remove_build
  if [ "${hold_taken}" = true ]; then virsh_ vol-delete --pool "${POOL}" "${HOLD_VOLUME}" >/dev/null; fi
  prune_images
  fail "nothing of the build is left; the next run builds again"
}

# The stack's hold on the image, taken before anything else: from then on no prune removes it.
hold_taken=false
take_hold() {
  local volumes
  volumes=$(volume_list)
  if ! listed "${HOLD_VOLUME}" "${volumes}"; then
    virsh_ vol-create-as "${POOL}" "${HOLD_VOLUME}" 1 --format raw >/dev/null
    hold_taken=true
  fi
}

# The image's disk on the base image, under its .partial mark; the builder's seed and a zeroed
# result disk it writes its verdict to.
make_volumes() {
  ensure_image
  virsh_ vol-create-as "${POOL}" "${partial}" 1 --format raw >/dev/null
  volume_on_image "${NODE_IMAGE}" "${NODE_IMAGE_GIB}"
  release_pool_lock
  make_seed_iso "${USER_DATA}" "${META_DATA}" "${NETWORK_CONFIG}"
  upload_volume "${seed_volume}" "${work}/seed.iso"
  head -c 1048576 /dev/zero >"${work}/result"
  upload_volume "${result_volume}" "${work}/result"
}

# The builder: the image's disk, the seed, the result disk (serial oslo-mesh-result, which the
# guest finds as /dev/disk/by-id/virtio-oslo-mesh-result) and user-mode networking (QEMU's own
# NAT: no address on the hypervisor's bridge, no libvirt network). Defined with its mark, then started.
start_builder() {
  local mark
  virt-install --connect "${LIBVIRT_URI}" --name "${DOMAIN}" --virt-type "${VIRT_TYPE}" \
    --vcpus "${VCPUS}" --memory "${MEMORY_MIB}" --cpu "${CPU}" --os-variant "${OS_VARIANT}" \
    --import --disk "vol=${POOL}/${NODE_IMAGE},bus=virtio,cache=none,io=native" \
    --disk "vol=${POOL}/${seed_volume},device=cdrom" \
    --disk "vol=${POOL}/${result_volume},bus=virtio,serial=oslo-mesh-result" \
    "--network=${BUILDER_NETWORK}$([ "${BUILDER_NETWORK}" = user ] && echo ",model=virtio")" \
    --graphics none --noautoconsole --print-xml >"${work}/virt-install.xml"
  mark="<oslo-mesh:node-image xmlns:oslo-mesh=\"${METADATA_NS}\" image=\"${NODE_IMAGE}\" base=\"${IMAGE_VOLUME}\"/>"
  mark_domain_xml "${mark}" "${work}/virt-install.xml" "${work}/domain.xml"
  virsh_ define "${work}/domain.xml" >/dev/null
  virsh_ start "${DOMAIN}" >/dev/null
}

# Waits for the builder to power off: it does once the preparation has run, either way.
await_builder() {
  local deadline=$((SECONDS + BUILD_TIMEOUT_SECONDS)) state
  say "the builder prepares the image; waiting up to ${BUILD_TIMEOUT_SECONDS}s for it to power off"
  while :; do
    state=$(virsh_ domstate "${DOMAIN}")
    [ "${state}" != "shut off" ] || return 0
    [ "${SECONDS}" -lt "${deadline}" ] || fail_build "the builder ${DOMAIN} did not power off within ${BUILD_TIMEOUT_SECONDS}s (state: ${state}); its console log is in libvirt's qemu log for ${DOMAIN}"
    sleep 2
  done
}

# The builder's verdict: "oslo-mesh-node-image ok <image>", or "... failed <image>: <log tail>".
read_verdict() {
  local verdict
  virsh_ vol-download --pool "${POOL}" "${result_volume}" "${work}/verdict"
  verdict=$(head -c 65536 "${work}/verdict" | tr -d '\000' | head -n 1)
  [ "${verdict}" = "oslo-mesh-node-image ok ${NODE_IMAGE}" ] || fail_build "the builder did not prepare the image: ${verdict:-it wrote no verdict}"
}

build_lock
take_hold
volumes=$(volume_list)
if listed "${NODE_IMAGE}" "${volumes}" && ! listed "${partial}" "${volumes}"; then
  say "the node image ${NODE_IMAGE} is in pool ${POOL}"
else
  remove_build
  say "building the node image ${NODE_IMAGE} in pool ${POOL}"
  make_volumes
  start_builder
  await_builder
  read_verdict
  virsh_ undefine "${DOMAIN}" --managed-save --snapshots-metadata --nvram >/dev/null
  for volume in "${seed_volume}" "${result_volume}" "${partial}"; do virsh_ vol-delete --pool "${POOL}" "${volume}" >/dev/null; done
  say "the node image ${NODE_IMAGE} is complete"
fi
echo "node-image=${NODE_IMAGE}"
