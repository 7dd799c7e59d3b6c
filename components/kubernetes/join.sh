#!/usr/bin/env bash
# Joins this node to the cluster with kubeadm, once: as a worker, or as another control-plane
# node with the certificates uploaded by init. Secrets arrive on standard input, as for init,
# with the CA certificate hash that init printed (`caCertHash=sha256:...`).
set -euo pipefail

phase() { echo "[join ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include stdin-secrets.sh
read_stdin_secrets
[[ "${ca_cert_hash}" =~ ^sha256:[a-f0-9]{64}$ ]] || { echo "no CA certificate hash on standard input" >&2; exit 1; }
if [ "${CONTROL_PLANE}" = true ] && ! [[ "${certificate_key}" =~ ^[a-f0-9]{64}$ ]]; then
  echo "a control-plane join needs the certificate key on standard input" >&2
  exit 1
fi

if [ -f "${ROOT}/etc/kubernetes/kubelet.conf" ]; then
  phase "already joined"
  exit 0
fi
conf_dir="${ROOT}/etc/kubernetes/oslo-mesh"
mkdir -p "${conf_dir}" "${ROOT}/var/log/oslo-mesh"
chmod 0700 "${conf_dir}"
config="${conf_dir}/kubeadm-join.yaml"
write_secret_config "${KUBEADM_CONFIG}" "${config}"

# A JoinConfiguration with a controlPlane section (and its certificateKey) joins a control plane.
args=(join --config "${config}")
phase "kubeadm join as $([ "${CONTROL_PLANE}" = true ] && echo control plane || echo worker); its log: /var/log/oslo-mesh/kubeadm-join.log"
if ! kubeadm "${args[@]}" >"${ROOT}/var/log/oslo-mesh/kubeadm-join.log" 2>&1; then
  echo "kubeadm join failed; see /var/log/oslo-mesh/kubeadm-join.log on ${NODE_NAME}" >&2
  exit 1
fi
phase "joined"
