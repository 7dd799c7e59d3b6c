#!/usr/bin/env bash
# Runs on the first control-plane node, for another node. All actions are idempotent.
# ACTION=admit: before the node joins, makes sure the bootstrap token exists (it expires after
#   a day) and, for a control-plane node, that the certificates are uploaded (they expire after
#   two hours), so a node added months later joins like the first ones. Secrets on stdin.
# ACTION=wait: waits until the node has registered.
# ACTION=remove: drains the node and deletes it from the cluster (before kubeadm reset runs
#   on it and its machine goes).
set -euo pipefail

# oslo-mesh:include stdin-secrets.sh
kubectl_() { kubectl --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" "$@"; }

case "${ACTION}" in
  admit)
    read_stdin_secrets
    config=$(mktemp)
    trap 'rm -f "${config}"' EXIT
    write_secret_config "${ADMIT_CONFIG}" "${config}"
    if ! kubeadm token list --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" 2>/dev/null | awk '{ print $1 }' | grep -qx "${token%%.*}"; then
      kubeadm token create --config "${config}" --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" >/dev/null
    fi
    if [ "${CONTROL_PLANE}" = true ]; then
      kubeadm init phase upload-certs --upload-certs --config "${config}" >/dev/null 2>&1
    fi
    echo "[node ${NODE_NAME}] admitted"
    ;;
  wait)
    for _ in $(seq 1 "${WAIT_SECONDS}"); do
      if kubectl_ get node "${NODE_NAME}" >/dev/null 2>&1; then
        echo "[node ${NODE_NAME}] registered"
        exit 0
      fi
      sleep 1
    done
    echo "node ${NODE_NAME} did not register within ${WAIT_SECONDS}s" >&2
    exit 1
    ;;
  remove)
    if kubectl_ get node "${NODE_NAME}" >/dev/null 2>&1; then
      kubectl_ drain "${NODE_NAME}" --ignore-daemonsets --delete-local-data --force --timeout=300s >/dev/null
      kubectl_ delete node "${NODE_NAME}" >/dev/null
    fi
    echo "[node ${NODE_NAME}] drained and removed"
    ;;
  *)
    echo "unknown ACTION ${ACTION}" >&2
    exit 1
    ;;
esac
