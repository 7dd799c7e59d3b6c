#!/usr/bin/env bash
# Installs the Calico CNI on the cluster from the first control-plane node, with the pod CIDR
# of the stack, after verifying the manifest's checksum. Idempotent (kubectl apply).
set -euo pipefail

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
curl -fsSL --retry 3 -o "${work}/calico.yaml" "${MANIFEST_URL}"
actual=$(sha256sum "${work}/calico.yaml" | awk '{ print $1 }')
if [ -z "${MANIFEST_SHA256}" ]; then
  echo "[cni] warning: no sha256 configured for ${MANIFEST_URL} (sha256 ${actual}); applying it unverified" >&2
elif [ "${actual}" != "${MANIFEST_SHA256}" ]; then
  echo "checksum mismatch for ${MANIFEST_URL}: expected ${MANIFEST_SHA256}, got ${actual}; nothing was applied" >&2
  exit 1
fi
# Calico's manifest carries 192.168.0.0/16 as its pool: set (v3.10) or commented out
# (later releases). Set ours, keeping the YAML's indentation.
sed -i -E \
  -e 's|^([[:space:]]*)#[[:space:]]*(- name: CALICO_IPV4POOL_CIDR)$|\1\2|' \
  -e 's|^([[:space:]]*)#[[:space:]]{3}value: "192\.168\.0\.0/16"$|\1  value: "'"${POD_CIDR}"'"|' \
  -e 's|^([[:space:]]*)value: "192\.168\.0\.0/16"$|\1value: "'"${POD_CIDR}"'"|' \
  "${work}/calico.yaml"
grep -q "value: \"${POD_CIDR}\"" "${work}/calico.yaml" || { echo "could not set CALICO_IPV4POOL_CIDR in ${MANIFEST_URL}" >&2; exit 1; }
kubectl --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" apply -f "${work}/calico.yaml" >/dev/null
echo "[cni] Calico applied with pool ${POD_CIDR}"
