#!/usr/bin/env bash
# Installs the Calico CNI on the cluster from the first control-plane node, with the pod CIDR
# of the stack, after verifying the download's sha256. Idempotent (kubectl apply).
# MANIFEST_URL is the manifest itself, or a .tgz with the manifest's path inside it after a `#`
# (Calico's release archive). Without a pinned sha256 nothing is applied: the message says how
# to pin it.
set -euo pipefail

url="${MANIFEST_URL%%#*}"
member=""
if [[ "${MANIFEST_URL}" == *"#"* ]]; then member="${MANIFEST_URL#*#}"; fi
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
curl -fsSL --retry 3 -o "${work}/download" "${url}"
actual=$(sha256sum "${work}/download" | awk '{ print $1 }')
if [ -z "${MANIFEST_SHA256}" ]; then
  echo "no sha256 pinned for ${url} (oslo-mesh:kubernetes.cni.manifestSha256): fetch it on a trusted machine, check it, and set its sha256 (the download here has ${actual}); nothing was applied" >&2
  exit 1
elif [ "${actual}" != "${MANIFEST_SHA256}" ]; then
  echo "checksum mismatch for ${url}: expected ${MANIFEST_SHA256}, got ${actual}; nothing was applied" >&2
  exit 1
fi
manifest="${work}/download"
if [ -n "${member}" ]; then
  if ! tar -xzf "${work}/download" -C "${work}" "${member}"; then
    echo "${url} holds no ${member}; nothing was applied" >&2
    exit 1
  fi
  manifest="${work}/${member}"
fi
# Calico's manifest carries 192.168.0.0/16 as its pool: set (v3.10) or commented out
# (later releases). Set ours, keeping the YAML's indentation.
sed -i -E \
  -e 's|^([[:space:]]*)#[[:space:]]*(- name: CALICO_IPV4POOL_CIDR)$|\1\2|' \
  -e 's|^([[:space:]]*)#[[:space:]]{3}value: "192\.168\.0\.0/16"$|\1  value: "'"${POD_CIDR}"'"|' \
  -e 's|^([[:space:]]*)value: "192\.168\.0\.0/16"$|\1value: "'"${POD_CIDR}"'"|' \
  "${manifest}"
grep -q "value: \"${POD_CIDR}\"" "${manifest}" || { echo "could not set CALICO_IPV4POOL_CIDR in ${MANIFEST_URL}" >&2; exit 1; }
kubectl --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" apply -f "${manifest}" >/dev/null
echo "[cni] Calico applied with pool ${POD_CIDR}"
