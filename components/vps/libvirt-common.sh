# Shared by libvirt-create.sh and libvirt-delete.sh (included where they say so).
# Parameters: LIBVIRT_URI STACK DOMAIN POOL DISK_VOLUME SEED_VOLUME METADATA_NS.

# libvirt's messages in English, so that the few the scripts read are the ones in its source.
export LC_ALL=C
# A failure inside $(...) fails the assignment it feeds (bash clears -e there otherwise).
shopt -s inherit_errexit

say() { echo "[vps ${DOMAIN}] $*" >&2; }
fail() { say "$*"; exit 1; }
virsh_() { virsh --quiet --connect "${LIBVIRT_URI}" "$@"; }

for tool in virsh flock sha256sum mktemp; do
  command -v "${tool}" >/dev/null || fail "the hypervisor lacks ${tool}"
done

# Values that end up in virt-install sub-options (--disk vol=POOL/..., --network bridge=...) or
# in the domain's XML: libvirt names only, so that ',' or '=' cannot add a sub-option there.
require_name() { # KEY VALUE
  [[ $2 =~ ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ ]] ||
    fail "$1 '$2' is not a libvirt name (letters, digits, '_', '.', '+', '-'): refusing to pass it to virt-install"
}
require_name POOL "${POOL}"
require_name STACK "${STACK}"
require_name DOMAIN "${DOMAIN}"

# A fresh work directory, removed on every exit: success, failure, or a signal (HUP: the SSH
# session went away; INT/TERM: the run was cancelled). A SIGKILL cannot be trapped: the next
# run removes work directories whose run is gone (it holds the lock on .lock while it lives).
tmp_root="${TMPDIR:-/tmp}"
for stale in "${tmp_root}"/oslo-mesh-vps.*; do
  if [ -d "${stale}" ] && [ -O "${stale}" ] && [ -e "${stale}/.lock" ] && flock -n "${stale}/.lock" true; then rm -rf "${stale}"; fi
done
work=$(mktemp -d "${tmp_root}/oslo-mesh-vps.XXXXXXXX")
trap 'rm -rf "${work}"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# The lock appears under its name only once held, so a sweep never takes a live run's directory.
exec 9>"${work}/.lock.new"
flock -n 9
mv "${work}/.lock.new" "${work}/.lock"

# Whether a domain or volume exists, by listing, never by a failed lookup: virsh prints only
# "failed to get domain 'X'" for any failed domain lookup, having reset libvirt's own error
# first (tools/virsh-util.c, virshLookupDomainInternal), so a failed lookup cannot tell "no such
# domain" from "no access". A listing either succeeds, and then says whether the name exists,
# or fails with libvirt's message, which ends the script (every call below is a plain statement
# or assignment, never a condition, so set -e applies).
listed() { grep -qxF -- "$1" <<<"$2"; } # NAME LIST
domain_list() { virsh_ list --all --name; }
volume_list() { virsh_ vol-list --pool "${POOL}" | awk 'NF { print $1 }'; }

# The mark in a domain's XML: <oslo-mesh:vm xmlns:oslo-mesh="METADATA_NS" stack=".." node=".." image=".."/>.
mark_of() { grep -F "xmlns:oslo-mesh=\"${METADATA_NS}\"" <<<"$1" | head -n 1 || true; }
mark_attr() { sed -n "s/.* $1=\"\\([^\"]*\\)\".*/\\1/p" <<<"$2"; } # ATTRIBUTE MARK

# Ends the script unless the domain (XML in $2) is this stack's VM of this node. $1: adopt or delete.
require_ours() {
  local mark stack node
  mark=$(mark_of "$2")
  if [ -z "${mark}" ]; then
    fail "domain ${DOMAIN} on ${LIBVIRT_URI} was not made by oslo-mesh (its XML has no <metadata> mark in ${METADATA_NS}): refusing to $1 it. Remove or rename that domain yourself, or give the node another name."
  fi
  stack=$(mark_attr stack "${mark}")
  node=$(mark_attr node "${mark}")
  if [ "${stack}" != "${STACK}" ] || [ "${node}" != "${DOMAIN}" ]; then
    fail "domain ${DOMAIN} on ${LIBVIRT_URI} was made by oslo-mesh stack ${stack} for node ${node}, not by stack ${STACK} for node ${DOMAIN}: refusing to $1 it."
  fi
}

# Base images are volumes named oslo-mesh-image-<sha256> (oslo-mesh-base-* from earlier
# versions); oslo-mesh-image-<sha256>.partial marks one whose upload has not finished. All work
# on them holds this lock, one per hypervisor and pool, for as long as the script runs or until
# release_pool_lock.
pool_lock() {
  local dir=/run/lock key
  if [ ! -d "${dir}" ] || [ ! -w "${dir}" ]; then dir="${XDG_RUNTIME_DIR:-/tmp}"; fi
  key=$(printf '%s\n%s\n' "${LIBVIRT_URI}" "${POOL}" | sha256sum | cut -c1-16)
  exec 8>>"${dir}/oslo-mesh-pool-${key}.lock"
  if ! flock -w 3600 8; then fail "another run has held the lock on pool ${POOL} (${dir}/oslo-mesh-pool-${key}.lock) for an hour"; fi
}
release_pool_lock() { exec 8>&-; }

is_image_volume() { [[ $1 =~ ^oslo-mesh-(image|base)-[0-9a-f]+$ ]]; }
# A node image (libvirt-node-image.sh): a base image with the node preparation done, shared by the
# stacks on this pool whose recipe it is; each stack's node-image step keeps a hold volume on it.
is_node_image() { [[ $1 =~ ^oslo-mesh-node-[0-9a-f]+$ ]]; }

# Every volume XML (backing stores, names) and domain XML (disks, oslo-mesh marks) of the pool and
# the hypervisor, but SKIP's own, to see which images are still used. Something that goes away
# meanwhile (a concurrent delete) is skipped; any other failure ends the script.
references() { # [SKIP]
  local volumes domains name xml
  volumes=$(volume_list)
  while IFS= read -r name; do
    [ -n "${name}" ] || continue
    is_image_volume "${name}" && continue
    [[ ${name} == *.partial ]] && continue
    [ "${name}" != "${1:-}" ] || continue
    if ! xml=$(virsh_ vol-dumpxml --pool "${POOL}" "${name}" 2>"${work}/error"); then
      volumes=$(volume_list)
      if listed "${name}" "${volumes}"; then cat "${work}/error" >&2; return 1; fi
      continue
    fi
    printf '%s\n' "${xml}"
  done <<<"${volumes}"
  domains=$(domain_list)
  while IFS= read -r name; do
    [ -n "${name}" ] || continue
    if ! xml=$(virsh_ dumpxml "${name}" 2>"${work}/error"); then
      domains=$(domain_list)
      if listed "${name}" "${domains}"; then cat "${work}/error" >&2; return 1; fi
      continue
    fi
    printf '%s\n' "${xml}"
  done <<<"${domains}"
}

# Removes node images and base images that nothing refers to any more, and what a stopped base
# image upload left (a .partial mark: under the lock no upload is running). Holds the pool lock.
prune_images() {
  local volumes refs name
  pool_lock
  volumes=$(volume_list)
  while IFS= read -r name; do
    if [[ ${name} == oslo-mesh-image-*.partial ]]; then
      say "removing ${name%.partial}, whose upload never finished"
      if listed "${name%.partial}" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${name%.partial}" >/dev/null; fi
      virsh_ vol-delete --pool "${POOL}" "${name}" >/dev/null
    fi
  done <<<"${volumes}"
  # Node images first: one that goes may leave its base image unused.
  volumes=$(volume_list)
  while IFS= read -r name; do
    is_node_image "${name}" || continue
    refs=$(references "${name}")
    if ! grep -qF -- "${name}" <<<"${refs}"; then
      say "removing the node image ${name}: no stack holds it and no disk uses it"
      virsh_ vol-delete --pool "${POOL}" "${name}" >/dev/null
      if listed "${name}.partial" "${volumes}"; then virsh_ vol-delete --pool "${POOL}" "${name}.partial" >/dev/null; fi
    fi
  done <<<"${volumes}"
  refs=$(references)
  volumes=$(volume_list)
  while IFS= read -r name; do
    is_image_volume "${name}" || continue
    if ! grep -qF -- "${name}" <<<"${refs}"; then
      say "removing the base image ${name}: no node uses it any more"
      virsh_ vol-delete --pool "${POOL}" "${name}" >/dev/null
    fi
  done <<<"${volumes}"
  release_pool_lock
}

# A raw volume of the pool holding FILE's bytes.
upload_volume() { # VOLUME FILE
  virsh_ vol-create-as "${POOL}" "$1" "$(stat -c %s "$2")" --format raw >/dev/null
  virsh_ vol-upload --pool "${POOL}" "$1" "$2"
}

# A NoCloud seed (cloud-init's cidata ISO) at ${work}/seed.iso.
make_seed_iso() { # USER_DATA META_DATA NETWORK_CONFIG
  mkdir -p "${work}/seed"
  printf '%s' "$1" >"${work}/seed/user-data"
  printf '%s' "$2" >"${work}/seed/meta-data"
  printf '%s' "$3" >"${work}/seed/network-config"
  genisoimage -quiet -output "${work}/seed.iso" -volid cidata -joliet -rock \
    "${work}/seed/user-data" "${work}/seed/meta-data" "${work}/seed/network-config"
}

# virt-install's --print-xml output (IN) with MARK in the domain's <metadata>, written to OUT:
# how a domain says who made it.
mark_domain_xml() { # MARK IN OUT
  MARK="$1" awk '
    /^  <\/metadata>$/ && !done { print "    " ENVIRON["MARK"]; done = 1 }
    /^<\/domain>$/ && !done { print "  <metadata>"; print "    " ENVIRON["MARK"]; print "  </metadata>"; done = 1 }
    { print }
    END { if (!done) exit 1 }' "$2" >"$3"
}
