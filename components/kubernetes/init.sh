#!/usr/bin/env bash
# Initialises the first control-plane node with kubeadm. The bootstrap token and the certificate
# key arrive on standard input (`token=...`, `certificateKey=...`), never as arguments or in a
# log; kubeadm's own output goes to a root-only log on the node. Prints the CA certificate hash
# that joining nodes pin.
# "Done" is the end state of kubeadm init, read from the cluster: the API server answers, the
# node is a registered control plane, the bootstrap-token and addon phases have left cluster-info
# and kube-proxy, and its etcd member is started and healthy. A run that finds kubeadm's files
# but not that end state resumes init's last phases when the API server answers, or resets the
# node and initialises it again when it never came up. A node that once reached the end state is
# never reset by this script.
set -euo pipefail

phase() { echo "[init ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include stdin-secrets.sh
# oslo-mesh:include cluster-state.sh
read_stdin_secrets
[[ "${certificate_key}" =~ ^[a-f0-9]{64}$ ]] || { echo "no valid certificate key on standard input" >&2; exit 1; }

conf_dir="${ROOT}/etc/kubernetes/oslo-mesh"
mkdir -p "${conf_dir}" "${ROOT}/var/log/oslo-mesh" "${ROOT}/var/lib/oslo-mesh"
chmod 0700 "${conf_dir}"
config="${conf_dir}/kubeadm-init.yaml"
write_secret_config "${KUBEADM_CONFIG}" "${config}"
log="${ROOT}/var/log/oslo-mesh/kubeadm-init.log"
(umask 077 && : >>"${log}")
chmod 0600 "${log}"
kubeconfig="${ROOT}/etc/kubernetes/admin.conf"
marker="${ROOT}/var/lib/oslo-mesh/initialised"

kubeadm_() {
  if ! kubeadm "$@" --config "${config}" >>"${log}" 2>&1; then
    echo "kubeadm $1 failed on ${NODE_NAME}; see /var/log/oslo-mesh/kubeadm-init.log" >&2
    exit 1
  fi
}

missing=""
initialised() {
  api_healthy || { missing="the API server does not answer"; return 1; }
  node_is_control_plane "${NODE_NAME}" || { missing="node ${NODE_NAME} is not a registered control plane"; return 1; }
  kube -n kube-public get configmap cluster-info -o name >/dev/null 2>&1 || { missing="no cluster-info ConfigMap (bootstrap-token phase)"; return 1; }
  kube -n kube-system get daemonset kube-proxy -o name >/dev/null 2>&1 || { missing="no kube-proxy (addon phase)"; return 1; }
  etcd_member_healthy "${NODE_NAME}" "${NODE_NAME}" "https://${NODE_IP}:2380" || { missing="its etcd member is not started and healthy"; return 1; }
}

leftovers() {
  local k="${ROOT}/etc/kubernetes"
  [ -e "${k}/admin.conf" ] || [ -e "${k}/manifests/kube-apiserver.yaml" ] || [ -e "${k}/pki/ca.crt" ] || [ -d "${ROOT}/var/lib/etcd/member" ]
}

# --skip-certificate-key-print keeps the certificate key out of the log too.
init_args=(--skip-token-print --skip-certificate-key-print)
# Several control planes: upload the certificates, encrypted with the key from the config.
if [ "${UPLOAD_CERTS}" = true ]; then init_args+=(--upload-certs); fi

if ! leftovers; then
  phase "kubeadm init (Kubernetes ${K8S_VERSION}); its log: /var/log/oslo-mesh/kubeadm-init.log"
  kubeadm_ init "${init_args[@]}"
elif wait_until "${WAIT_SECONDS}" initialised; then
  phase "already initialised"
elif [ -f "${marker}" ]; then
  echo "${NODE_NAME} was initialised before, but now ${missing}. Not resetting a control plane that holds the cluster: repair it (see /var/log/oslo-mesh/kubeadm-init.log) and run again" >&2
  exit 1
elif [ -e "${kubeconfig}" ] && api_healthy; then
  phase "kubeadm init stopped halfway (${missing}); running its last phases again"
  kubeadm_ init phase upload-config all
  if [ "${UPLOAD_CERTS}" = true ]; then kubeadm_ init phase upload-certs --upload-certs --skip-certificate-key-print; fi
  kubeadm_ init phase mark-control-plane
  kubeadm_ init phase bootstrap-token
  kubeadm_ init phase addon all
else
  phase "kubeadm init stopped before its control plane came up (${missing}); kubeadm reset, then init again"
  if ! kubeadm reset --force >>"${log}" 2>&1; then
    echo "kubeadm reset failed on ${NODE_NAME}; see /var/log/oslo-mesh/kubeadm-init.log" >&2
    exit 1
  fi
  kubeadm_ init "${init_args[@]}"
fi

if ! wait_until "${WAIT_SECONDS}" initialised; then
  echo "kubeadm init ran on ${NODE_NAME}, but ${missing}; see /var/log/oslo-mesh/kubeadm-init.log" >&2
  exit 1
fi
printf '%s\n' "${NODE_NAME}" >"${marker}"

# The hash joining nodes pin: sha256 of the CA's public key (DER), as kubeadm prints it.
ca="${ROOT}/etc/kubernetes/pki/ca.crt"
hash=$(openssl x509 -pubkey -noout -in "${ca}" | openssl pkey -pubin -outform der | sha256sum | awk '{ print $1 }')
echo "caCertHash=sha256:${hash}"
