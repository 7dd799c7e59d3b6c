#!/usr/bin/env bash
# Sets up etcd snapshots on this control plane (ACTION=install), or takes them away
# (ACTION=remove; the snapshots themselves stay). Idempotent.
# etcdctl: kubeadm runs etcd as a static pod, so the host has no etcdctl. The installer copies
# the one inside the running etcd container's image (through /proc/PID/root: the image
# containerd pulled and kubeadm runs) and checks that it reports the cluster's etcd version,
# so snapshots and restores use the client of the etcd they talk to, with no download.
set -euo pipefail

log() { echo "[etcd-snapshots ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include ../timer.sh

if [ "${ACTION}" = remove ]; then
  remove_timer etcd-snapshot
  rm -f "${ROOT}/usr/local/sbin/oslo-mesh-etcd-restore"
  log "snapshot timer removed; snapshots kept in ${SNAPSHOT_DIR}"
  exit 0
fi

etcdctl_version() { ETCDCTL_API=3 "$1" version 2>/dev/null | sed -n 's/^etcdctl version: //p'; }

if [ "$(etcdctl_version "${ROOT}${ETCDCTL}")" != "${ETCD_VERSION}" ]; then
  pid=""
  for candidate in $(pgrep -x etcd || true); do
    if tr '\0' ' ' <"/proc/${candidate}/cmdline" | grep -Eq -- "--data-dir=${ROOT}${DATA_DIR}( |$)"; then pid="${candidate}"; break; fi
  done
  [ -n "${pid}" ] || { echo "no running etcd with --data-dir=${DATA_DIR} on ${NODE_NAME}: is this a kubeadm control plane?" >&2; exit 1; }
  source="/proc/${pid}/root${ETCDCTL_IN_IMAGE}"
  found=$(etcdctl_version "${source}")
  if [ "${found}" != "${ETCD_VERSION}" ]; then
    echo "the etcd container's ${ETCDCTL_IN_IMAGE} reports version '${found}', expected ${ETCD_VERSION} (kubeadm's etcd for Kubernetes ${K8S_VERSION}); nothing was installed" >&2
    exit 1
  fi
  mkdir -p "$(dirname "${ROOT}${ETCDCTL}")"
  install -m 0755 "${source}" "${ROOT}${ETCDCTL}.tmp"
  mv "${ROOT}${ETCDCTL}.tmp" "${ROOT}${ETCDCTL}"
  log "etcdctl ${ETCD_VERSION} from the etcd container (sha256 $(sha256sum "${ROOT}${ETCDCTL}" | awk '{ print $1 }'))"
fi

if [ -n "${COPY_HOST}" ]; then
  # This node's own key for the backup host: made here, never leaving the node. Its public
  # half is printed for the stack output etcdBackupKeys (add it to the backup host).
  if [ ! -f "${ROOT}${COPY_KEY}" ]; then
    mkdir -p "$(dirname "${ROOT}${COPY_KEY}")"
    ssh-keygen -q -t ed25519 -N '' -C "oslo-mesh-etcd-backup@${NODE_NAME}" -f "${ROOT}${COPY_KEY}"
  fi
  put_file "${COPY_KNOWN_HOSTS}" 0600 "${COPY_KNOWN_HOSTS_LINE}" || true
  echo "backupKey=$(cat "${ROOT}${COPY_KEY}.pub")"
fi

put_file /usr/local/sbin/oslo-mesh-etcd-restore 0700 "${RESTORE_SCRIPT}" || true
install_timer etcd-snapshot "${SNAPSHOT_SCRIPT}" "${SERVICE_UNIT}" "${TIMER_UNIT}"
log "oslo-mesh-etcd-snapshot.timer (${SCHEDULE}) keeps the newest ${KEEP} in ${SNAPSHOT_DIR}; restore runbook: /usr/local/sbin/oslo-mesh-etcd-restore"
