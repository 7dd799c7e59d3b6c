#!/usr/bin/env bash
# Converges this node to Kubernetes TARGET_VERSION in kubeadm's order for that version
# (kubeadm-upgrade-1-14.md, kubeadm-upgrade-1-15.md): the new kubeadm first (checksum-verified
# like at install), then `kubeadm upgrade plan` + `apply` on the first control plane, the
# per-version `kubeadm upgrade node` on the other nodes, then the new kubelet and kubectl and a
# kubelet restart, and waits until the node reports TARGET_VERSION and Ready. A worker is
# drained before (worker-maintenance.sh drain) and uncordoned after, from the first control plane.
# Idempotent and resumable: every step checks first, so a node already at TARGET_VERSION (a new
# cluster, or a re-run after a failure) does only what is left.
set -euo pipefail

phase() { echo "[upgrade ${NODE_NAME}] $*" >&2; }
# oslo-mesh:include ../../verified-download.sh
target="v${TARGET_VERSION}"
kubectl_() { kubectl --kubeconfig "${ROOT}${KUBECONFIG_FILE}" "$@"; }
cluster_version() { kubectl_ -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' | sed -n 's/^kubernetesVersion: *//p'; }
reported_version() { kubectl_ get node "${NODE_NAME}" -o jsonpath='{.status.nodeInfo.kubeletVersion}'; }
ready() { [ "$(kubectl_ get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
# The version of the control-plane static pods kubeadm wrote on this node.
manifests_version() { sed -n 's/^[ -]*image: .*kube-apiserver:\(v[0-9.]*\)$/\1/p' "${ROOT}/etc/kubernetes/manifests/kube-apiserver.yaml" 2>/dev/null || true; }

log_dir="${ROOT}/var/log/oslo-mesh"
stamp_dir="${ROOT}/var/lib/oslo-mesh/artifacts"
mkdir -p "${log_dir}" "${stamp_dir}" "${ROOT}/usr/local/bin"
work=$(mktemp -d)
# A worker is drained before this step (worker-maintenance.sh): when the step fails, say that
# it stays cordoned until its upgrade completes.
cordoned="if ${NODE_NAME} was drained for this upgrade, it stays cordoned until its upgrade to ${target} completes"
trap 'if [ "$?" -ne 0 ] && [ "${ROLE}" = worker ]; then echo "${cordoned}" >&2; fi; rm -rf "${work}"' EXIT

# install_binary NAME: the TARGET_VERSION build of NAME, verified; exit 0 when it changed.
install_binary() {
  local i
  for i in "${!ARTIFACT_NAMES[@]}"; do
    [ "${ARTIFACT_NAMES[$i]}" = "$1" ] || continue
    if [ "$(cat "${stamp_dir}/$1" 2>/dev/null || true)" = "${ARTIFACT_URLS[$i]}" ]; then return 1; fi
    fetch_verified "${i}" "${work}"
    install -m 0755 "${work}/$1" "${ROOT}/usr/local/bin/$1.new"
    mv "${ROOT}/usr/local/bin/$1.new" "${ROOT}/usr/local/bin/$1"
    printf '%s\n' "${ARTIFACT_URLS[$i]}" >"${stamp_dir}/$1"
    phase "$1 ${target} installed (checksum verified)"
    return 0
  done
  echo "no artifact named $1" >&2
  exit 1
}

# kubeadm KUBEADM-ARGS...: runs kubeadm with its output in the node's upgrade log; fails naming it.
kubeadm_() {
  phase "kubeadm $*"
  if ! kubeadm "$@" >>"${log_dir}/kubeadm-upgrade.log" 2>&1; then
    echo "kubeadm $* failed on ${NODE_NAME}; its output: /var/log/oslo-mesh/kubeadm-upgrade.log. Fix the cause and run pulumi up again: every step resumes." >&2
    tail -n 20 "${log_dir}/kubeadm-upgrade.log" >&2
    exit 1
  fi
}

install_binary kubeadm || true

cluster=$(cluster_version)
case "${ROLE}" in
  first-control-plane)
    if [ "${cluster}" != "${target}" ] || [ "$(manifests_version)" != "${target}" ]; then
      phase "control plane ${cluster} → ${target}"
      kubeadm_ upgrade plan "${target}"
      kubeadm_ upgrade apply --yes "${target}"
    fi
    ;;
  control-plane | worker)
    if [ "${cluster}" != "${target}" ]; then
      echo "the cluster's control plane is at ${cluster:-an unknown version}, not ${target}: the first control plane upgrades first" >&2
      exit 1
    fi
    done_file="${ROOT}/var/lib/oslo-mesh/upgraded-node"
    if [ "${ROLE}" = control-plane ] && [ "$(manifests_version)" != "${target}" ]; then
      kubeadm_ "${UPGRADE_ARGS[@]}"
    elif [ "${ROLE}" = worker ] && [ "$(reported_version)" != "${target}" ] && [ "$(cat "${done_file}" 2>/dev/null || true)" != "${target}" ]; then
      kubeadm_ "${UPGRADE_ARGS[@]}"
    fi
    echo "${target}" >"${done_file}"
    ;;
  *)
    echo "unknown ROLE ${ROLE}" >&2
    exit 1
    ;;
esac

install_binary kubelet || true
install_binary kubectl || true
if [ "$(reported_version)" != "${target}" ]; then
  phase "restarting the kubelet"
  systemctl daemon-reload
  systemctl restart kubelet
fi
for _ in $(seq 1 "${WAIT_SECONDS}"); do
  if [ "$(reported_version)" = "${target}" ] && ready; then
    phase "at ${target} and Ready"
    exit 0
  fi
  sleep 1
done
echo "${NODE_NAME} did not report ${target} and Ready within ${WAIT_SECONDS}s after its kubelet restart" >&2
exit 1
