#!/usr/bin/env bash
# Takes this node out of Kubernetes before its machine goes: kubeadm reset, and the CNI and
# kubeadm files it leaves. Idempotent: a node that never joined is fine.
set -euo pipefail

if command -v kubeadm >/dev/null && [ -f "${ROOT}/etc/kubernetes/kubelet.conf" ]; then
  kubeadm reset --force >/dev/null 2>&1
fi
rm -rf "${ROOT}/etc/cni/net.d" "${ROOT}/etc/kubernetes/oslo-mesh"
echo "[reset ${NODE_NAME}] done"
