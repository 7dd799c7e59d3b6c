#!/usr/bin/env bash
# Initialises the first control-plane node with kubeadm, once. The bootstrap token and the
# certificate key arrive on standard input (`token=...`, `certificateKey=...`), never as
# arguments or in a log. kubeadm's own output (which names the certificate key) goes to a
# root-only log on the node. Prints the CA certificate hash that joining nodes pin.
set -euo pipefail

phase() { echo "[init ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include stdin-secrets.sh
read_stdin_secrets
[[ "${certificate_key}" =~ ^[a-f0-9]{64}$ ]] || { echo "no valid certificate key on standard input" >&2; exit 1; }

conf_dir="${ROOT}/etc/kubernetes/oslo-mesh"
mkdir -p "${conf_dir}" "${ROOT}/var/log/oslo-mesh"
chmod 0700 "${conf_dir}"
config="${conf_dir}/kubeadm-init.yaml"
write_secret_config "${KUBEADM_CONFIG}" "${config}"

if [ -f "${ROOT}/etc/kubernetes/admin.conf" ]; then
  phase "already initialised"
else
  phase "kubeadm init (Kubernetes ${K8S_VERSION}); its log: /var/log/oslo-mesh/kubeadm-init.log"
  args=(init --config "${config}" --skip-token-print)
  # Several control planes: upload the certificates, encrypted with the key from the config.
  if [ "${UPLOAD_CERTS}" = true ]; then args+=(--upload-certs); fi
  if ! kubeadm "${args[@]}" >"${ROOT}/var/log/oslo-mesh/kubeadm-init.log" 2>&1; then
    echo "kubeadm init failed; see /var/log/oslo-mesh/kubeadm-init.log on ${NODE_NAME}" >&2
    exit 1
  fi
fi

# The hash joining nodes pin: sha256 of the CA's public key (DER), as kubeadm prints it.
ca="${ROOT}/etc/kubernetes/pki/ca.crt"
hash=$(openssl x509 -pubkey -noout -in "${ca}" | openssl pkey -pubin -outform der | sha256sum | awk '{ print $1 }')
echo "caCertHash=sha256:${hash}"
