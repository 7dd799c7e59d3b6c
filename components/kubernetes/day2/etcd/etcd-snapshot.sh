#!/usr/bin/env bash
# Takes one etcd snapshot on this control plane with kubeadm's etcd client certificate,
# checks it, keeps the newest KEEP, and copies it to the backup host when one is configured.
# Run by oslo-mesh-etcd-snapshot.timer. A failed snapshot exits non-zero and leaves the
# earlier snapshots alone; a snapshot is only ever visible under its final name when whole.
set -euo pipefail

log() { echo "[etcd-snapshot ${NODE_NAME}] $*"; }
umask 077
dir="${ROOT}${SNAPSHOT_DIR}"
mkdir -p "${dir}"
chmod 0700 "${dir}"

# etcdctl keeps retrying an endpoint that does not answer: bound it.
etcdctl_() {
  ETCDCTL_API=3 timeout "${TIMEOUT_SECONDS}" "${ROOT}${ETCDCTL}" --endpoints "${ETCD_ENDPOINT}" --dial-timeout 5s \
    --cacert "${ROOT}${PKI_DIR}/ca.crt" --cert "${ROOT}${PKI_DIR}/healthcheck-client.crt" --key "${ROOT}${PKI_DIR}/healthcheck-client.key" "$@"
}

# Fixed-width UTC timestamps sort by name in time order.
name="etcd-${NODE_NAME}-$(date -u +%Y%m%dT%H%M%S.%NZ).db"
part="${dir}/.${name}.saving"
# etcdctl itself writes to "${part}.part" and renames it when whole (etcdctl snapshot save).
trap 'rm -f "${part}" "${part}.part"' EXIT
if ! etcdctl_ snapshot save "${part}" >"${dir}/.last-save.log" 2>&1; then
  echo "etcd snapshot failed on ${NODE_NAME}; earlier snapshots kept:" >&2
  cat "${dir}/.last-save.log" >&2
  exit 1
fi
# `snapshot status` reads the file back as a bolt database (its buckets, their hash); the sha256
# that `snapshot save` appends is checked only by `snapshot restore` (etcdctl snapshot_command.go).
if ! status=$(ETCDCTL_API=3 "${ROOT}${ETCDCTL}" snapshot status "${part}" --write-out simple 2>&1); then
  echo "etcd snapshot on ${NODE_NAME} is unreadable (${status}); earlier snapshots kept" >&2
  exit 1
fi
mv "${part}" "${dir}/${name}"
log "saved ${dir}/${name} (hash, revision, keys, size: ${status})"

mapfile -t snapshots < <(find "${dir}" -maxdepth 1 -name "etcd-${NODE_NAME}-*.db" -printf '%f\n' | sort)
excess=$((${#snapshots[@]} - KEEP))
for ((i = 0; i < excess; i++)); do
  rm -f "${dir:?}/${snapshots[$i]}"
  log "removed ${snapshots[$i]} (keeping the newest ${KEEP})"
done

if [ -n "${COPY_HOST}" ]; then
  # The node's own key, made by the installer; the backup host is pinned in known_hosts.
  ssh_=(ssh -i "${ROOT}${COPY_KEY}" -p "${COPY_PORT}" -o BatchMode=yes -o StrictHostKeyChecking=yes
    -o UserKnownHostsFile="${ROOT}${COPY_KNOWN_HOSTS}" -o ConnectTimeout=30 "${COPY_USER}@${COPY_HOST}")
  remote_dir=$(printf '%q' "${COPY_PATH}")
  if ! "${ssh_[@]}" "mkdir -p ${remote_dir} && cat >${remote_dir}/.${name}.part && mv ${remote_dir}/.${name}.part ${remote_dir}/${name}" <"${dir}/${name}"; then
    echo "etcd snapshot ${name} was saved on ${NODE_NAME} but not copied to ${COPY_USER}@${COPY_HOST}:${COPY_PATH}" >&2
    exit 1
  fi
  log "copied ${name} to ${COPY_USER}@${COPY_HOST}:${COPY_PATH}"
fi
