#!/usr/bin/env bash
# Joins this node to the cluster with kubeadm: as a worker, or as another control-plane node with
# the certificates uploaded by init. Secrets arrive on standard input, as for init, with the CA
# certificate hash that init printed (`caCertHash=sha256:...`).
# "Done" is the end state of kubeadm join, read from the cluster: the node is registered with
# kubeadm's annotation (written last by kubelet-start) and, for a control plane, labelled as one
# (mark-control-plane, its last phase) with its etcd member started and healthy. A run that finds
# kubeadm's files but not that end state undoes the half-join (for a control plane, first its
# etcd member, which kubeadm reset cannot find before the join recorded it) and joins again. A
# node that once reached the end state is never reset by this script.
set -euo pipefail

phase() { echo "[join ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include stdin-secrets.sh
# oslo-mesh:include cluster-state.sh
read_stdin_secrets
[[ "${ca_cert_hash}" =~ ^sha256:[a-f0-9]{64}$ ]] || { echo "no CA certificate hash on standard input" >&2; exit 1; }
if [ "${CONTROL_PLANE}" = true ] && ! [[ "${certificate_key}" =~ ^[a-f0-9]{64}$ ]]; then
  echo "a control-plane join needs the certificate key on standard input" >&2
  exit 1
fi

k8s="${ROOT}/etc/kubernetes"
marker="${ROOT}/var/lib/oslo-mesh/joined"
log="${ROOT}/var/log/oslo-mesh/kubeadm-join.log"
peer_url="https://${NODE_IP}:2380"

missing=""
joined() {
  [ -f "${k8s}/kubelet.conf" ] || { missing="no kubelet.conf"; return 1; }
  # The kubelet's own credentials may read its own Node.
  kubeconfig="${k8s}/kubelet.conf"
  node_annotated_by_kubeadm "${NODE_NAME}" || { missing="node ${NODE_NAME} is not registered by kubeadm"; return 1; }
  [ "${CONTROL_PLANE}" = true ] || return 0
  kubeconfig="${k8s}/admin.conf"
  node_is_control_plane "${NODE_NAME}" || { missing="node ${NODE_NAME} is not marked as a control plane"; return 1; }
  etcd_member_healthy "${NODE_NAME}" "${NODE_NAME}" "${peer_url}" || { missing="its etcd member is not started and healthy"; return 1; }
}

leftovers() {
  [ -e "${k8s}/kubelet.conf" ] || [ -e "${k8s}/bootstrap-kubelet.conf" ] || [ -e "${k8s}/pki/ca.crt" ] || [ -d "${ROOT}/var/lib/etcd/member" ] ||
    { [ -d "${k8s}/manifests" ] && [ -n "$(ls -A "${k8s}/manifests")" ]; }
}

# A control plane's half-join may have added its etcd member before recording itself in the
# ClusterStatus, where kubeadm reset looks for it: remove it through the first control plane's
# etcd, or the next join fails with "Peer URLs already exists" and etcd counts a dead member.
remove_own_etcd_member() {
  if [ "${CONTROL_PLANE}" != true ] || [ ! -f "${k8s}/admin.conf" ]; then return 0; fi
  kubeconfig="${k8s}/admin.conf"
  local row
  row=$(etcd_member "${FIRST_CONTROL_PLANE}" "${NODE_NAME}" "${peer_url}") || { phase "could not read etcd's member list through ${FIRST_CONTROL_PLANE}"; return 0; }
  [ -n "${row}" ] || return 0
  phase "removing its etcd member ${row%%,*} left by the half-join"
  etcd_remove_member "${FIRST_CONTROL_PLANE}" "${row%%,*}"
}

mkdir -p "${ROOT}/var/log/oslo-mesh" "${ROOT}/var/lib/oslo-mesh"
(umask 077 && : >>"${log}")
chmod 0600 "${log}"
if leftovers; then
  if wait_until "${WAIT_SECONDS}" joined; then
    phase "already joined"
    exit 0
  fi
  if [ -f "${marker}" ]; then
    echo "${NODE_NAME} joined before, but now ${missing}. Not resetting a node of the cluster: repair it (see /var/log/oslo-mesh/kubeadm-join.log) and run again" >&2
    exit 1
  fi
  phase "kubeadm join stopped halfway (${missing}); undoing it"
  remove_own_etcd_member
  if ! kubeadm reset --force >>"${log}" 2>&1; then
    echo "kubeadm reset failed on ${NODE_NAME}; see /var/log/oslo-mesh/kubeadm-join.log" >&2
    exit 1
  fi
fi

conf_dir="${k8s}/oslo-mesh"
mkdir -p "${conf_dir}"
chmod 0700 "${conf_dir}"
config="${conf_dir}/kubeadm-join.yaml"
write_secret_config "${KUBEADM_CONFIG}" "${config}"

# A JoinConfiguration with a controlPlane section (and its certificateKey) joins a control plane.
phase "kubeadm join as $([ "${CONTROL_PLANE}" = true ] && echo control plane || echo worker); its log: /var/log/oslo-mesh/kubeadm-join.log"
if ! kubeadm join --config "${config}" >>"${log}" 2>&1; then
  echo "kubeadm join failed; see /var/log/oslo-mesh/kubeadm-join.log on ${NODE_NAME}" >&2
  exit 1
fi
if ! wait_until "${WAIT_SECONDS}" joined; then
  echo "kubeadm join ran on ${NODE_NAME}, but ${missing}; see /var/log/oslo-mesh/kubeadm-join.log" >&2
  exit 1
fi
printf '%s\n' "${NODE_NAME}" >"${marker}"
phase "joined"
