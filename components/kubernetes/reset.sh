#!/usr/bin/env bash
# Takes this node out of Kubernetes before its machine goes, after the drain and before its Node
# is deleted (kubeadm's order): `kubeadm reset` reads its configuration from the cluster, which
# needs this node's Node object and ClusterStatus entry, and on a control plane removes its etcd
# member with them. Then the CNI and oslo-mesh files go. Idempotent: a node that never joined,
# or was reset already, is fine.
set -euo pipefail

k8s="${ROOT}/etc/kubernetes"
log="${ROOT}/var/log/oslo-mesh/kubeadm-reset.log"
if command -v kubeadm >/dev/null && { [ -e "${k8s}/kubelet.conf" ] || [ -e "${k8s}/manifests/etcd.yaml" ] || [ -e "${k8s}/admin.conf" ]; }; then
  mkdir -p "${ROOT}/var/log/oslo-mesh"
  (umask 077 && : >>"${log}")
  if ! kubeadm reset --force >>"${log}" 2>&1; then
    echo "kubeadm reset failed on ${NODE_NAME}; see /var/log/oslo-mesh/kubeadm-reset.log" >&2
    exit 1
  fi
fi
rm -rf "${ROOT}/etc/cni/net.d" "${k8s}/oslo-mesh" "${ROOT}/var/lib/oslo-mesh/joined" "${ROOT}/var/lib/oslo-mesh/initialised"
echo "[reset ${NODE_NAME}] done"
