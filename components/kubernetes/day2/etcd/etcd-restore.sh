#!/usr/bin/env bash
# Restores this control plane's etcd member from a snapshot: the runbook, as a script
# (README, "Restoring etcd"). With several control planes, every member is restored from the
# SAME snapshot: run `stop` on all of them, `restore FILE` on each, `start` on each, then
# `wait` on any. With one control plane, `all FILE` does the four steps.
#   stop          moves the kube-apiserver and etcd static-pod manifests aside (the kubelet
#                 stops both) and waits until etcd no longer answers
#   restore FILE  checks FILE, keeps the current data directory beside it, and restores FILE
#                 into a fresh one as this member of the cluster
#   start         puts the manifests back (the kubelet starts etcd, then the API server)
#   wait          waits until etcd answers healthy
# Every step is idempotent: after a failure, run the same step again.
set -euo pipefail

log() { echo "[etcd-restore ${NODE_NAME}] $*"; }
manifests="${ROOT}/etc/kubernetes/manifests"
held="${ROOT}/etc/kubernetes/oslo-mesh/held-manifests"
data="${ROOT}${DATA_DIR}"

etcdctl_() {
  ETCDCTL_API=3 "${ROOT}${ETCDCTL}" --endpoints "${ETCD_ENDPOINT}" --dial-timeout 3s --command-timeout 5s \
    --cacert "${ROOT}${PKI_DIR}/ca.crt" --cert "${ROOT}${PKI_DIR}/healthcheck-client.crt" --key "${ROOT}${PKI_DIR}/healthcheck-client.key" "$@"
}

stop() {
  mkdir -p "${held}"
  chmod 0700 "${held}"
  for m in kube-apiserver etcd; do
    if [ -f "${manifests}/${m}.yaml" ]; then mv "${manifests}/${m}.yaml" "${held}/${m}.yaml"; fi
  done
  for _ in $(seq 1 "${WAIT_SECONDS}"); do
    if ! etcdctl_ endpoint health >/dev/null 2>&1; then
      log "etcd and the API server are stopped; manifests held in ${held#"${ROOT}"}"
      return 0
    fi
    sleep 1
  done
  echo "etcd on ${NODE_NAME} still answers ${WAIT_SECONDS}s after its manifest was moved; is the kubelet running?" >&2
  exit 1
}

restore() {
  local snapshot="$1"
  [ -f "${snapshot}" ] || { echo "no snapshot file ${snapshot}" >&2; exit 1; }
  if [ -f "${manifests}/etcd.yaml" ] || etcdctl_ endpoint health >/dev/null 2>&1; then
    echo "etcd on ${NODE_NAME} is running: run '$0 stop' first (on every control plane)" >&2
    exit 1
  fi
  # Reads the whole file back as a bolt database before anything is touched (restore below also
  # checks the sha256 that `snapshot save` appended, into a new directory).
  ETCDCTL_API=3 "${ROOT}${ETCDCTL}" snapshot status "${snapshot}" >/dev/null
  local fresh="${data}.restoring"
  rm -rf "${fresh}"
  ETCDCTL_API=3 "${ROOT}${ETCDCTL}" snapshot restore "${snapshot}" --data-dir "${fresh}" \
    --name "${NODE_NAME}" --initial-cluster "${INITIAL_CLUSTER}" \
    --initial-advertise-peer-urls "${PEER_URL}" --initial-cluster-token "${CLUSTER_TOKEN}" >/dev/null
  if [ -d "${data}" ]; then
    local kept
    kept="${data}.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    mv "${data}" "${kept}"
    log "the previous data directory is kept as ${kept#"${ROOT}"}"
  fi
  mv "${fresh}" "${data}"
  chmod 0700 "${data}"
  log "restored ${snapshot} into ${DATA_DIR} as member ${NODE_NAME} of ${INITIAL_CLUSTER}"
}

start() {
  for m in etcd kube-apiserver; do
    if [ -f "${held}/${m}.yaml" ]; then mv "${held}/${m}.yaml" "${manifests}/${m}.yaml"; fi
  done
  log "manifests back in place; the kubelet starts etcd and the API server"
}

wait_healthy() {
  for _ in $(seq 1 "${WAIT_SECONDS}"); do
    if etcdctl_ endpoint health >/dev/null 2>&1; then
      log "etcd is healthy"
      return 0
    fi
    sleep 1
  done
  echo "etcd on ${NODE_NAME} is not healthy after ${WAIT_SECONDS}s (with several control planes, start every member)" >&2
  exit 1
}

case "${1:-}" in
  stop) stop ;;
  restore) restore "${2:?usage: $0 restore SNAPSHOT-FILE}" ;;
  start) start ;;
  wait) wait_healthy ;;
  all)
    stop
    restore "${2:?usage: $0 all SNAPSHOT-FILE}"
    start
    wait_healthy
    ;;
  *)
    echo "usage: $0 stop | restore SNAPSHOT-FILE | start | wait | all SNAPSHOT-FILE" >&2
    exit 2
    ;;
esac
