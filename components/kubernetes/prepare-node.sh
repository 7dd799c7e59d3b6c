#!/usr/bin/env bash
# Prepares a node for kubeadm, in named idempotent phases: wait for cloud-init, check
# cgroup v1, swap off, kernel modules and sysctls, containerd, then kubeadm, kubelet,
# kubectl, crictl and the CNI plugins at the configured versions, and with PULL_IMAGES
# kubeadm's control-plane images. Every download is verified against its published checksum
# before anything is installed. On a node cloned from the node image every phase finds its
# work done, and nothing is downloaded.
# ROOT is empty on a node; the tests point it at a sandbox.
set -euo pipefail

phase() { echo "[prepare ${NODE_NAME}] $*"; }
# oslo-mesh:include verified-download.sh
# Writes a file only when its content differs; says whether it changed (exit 0) or not (1).
write_file() { # path mode content
  local path="${ROOT}$1"
  if [ -f "${path}" ] && [ "$(cat "${path}")" = "$3" ]; then return 1; fi
  mkdir -p "$(dirname "${path}")"
  printf '%s\n' "$3" >"${path}.tmp"
  chmod "$2" "${path}.tmp"
  mv "${path}.tmp" "${path}"
}

phase "waiting for cloud-init"
if command -v cloud-init >/dev/null; then cloud-init status --wait >/dev/null; fi

phase "checking cgroup v1"
if [ "$(stat -fc %T "${ROOT}/sys/fs/cgroup")" = "cgroup2fs" ]; then
  echo "this node booted with cgroup v2; kubelet ${K8S_VERSION} needs cgroup v1 (systemd.unified_cgroup_hierarchy=0)" >&2
  exit 1
fi

phase "turning swap off"
swapoff -a
if grep -Eq '^[^#].*[[:space:]]swap[[:space:]]' "${ROOT}/etc/fstab"; then
  sed -i -E 's/^([^#].*[[:space:]]swap[[:space:]].*)$/# \1/' "${ROOT}/etc/fstab"
fi

phase "kernel modules and sysctls for bridged traffic"
write_file /etc/modules-load.d/oslo-mesh-k8s.conf 0644 "overlay
br_netfilter" || true
modprobe overlay
modprobe br_netfilter
if write_file /etc/sysctl.d/99-oslo-mesh-k8s.conf 0644 "net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1"; then
  sysctl --system >/dev/null
fi

phase "host packages kubeadm's preflight needs, and containerd"
# On a first boot unattended-upgrades may hold apt's locks for minutes. apt-get install waits for
# the dpkg lock with DPkg::Lock::Timeout (apt >= 1.9.11; focal has 2.0); `apt-get update` (the
# lists lock) and apt-mark (dpkg --set-selections) do not wait, so they are retried while locked.
apt_retry() {
  local deadline=$((SECONDS + APT_LOCK_SECONDS)) err
  until err=$("$@" 2>&1 >/dev/null); do
    if [[ "${err}" != *lock* ]] || [ "${SECONDS}" -ge "${deadline}" ]; then
      printf '%s\n' "${err}" >&2
      return 1
    fi
    sleep 2
  done
}
missing=()
for pkg in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "${pkg%%=*}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
done
if [ "$(dpkg-query -W -f='${Version}' containerd 2>/dev/null || true)" != "${CONTAINERD_VERSION}" ]; then
  missing+=("containerd=${CONTAINERD_VERSION}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt_retry apt-get -qq update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="${APT_LOCK_SECONDS}" install -y -qq --allow-downgrades "${missing[@]}" >/dev/null
  apt_retry apt-mark hold containerd
fi
if write_file /etc/containerd/config.toml 0644 "${CONTAINERD_CONFIG}"; then
  systemctl restart containerd
fi
systemctl enable --now containerd >/dev/null

phase "downloading and verifying the Kubernetes ${K8S_VERSION} tools"
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
stamp_dir="${ROOT}/var/lib/oslo-mesh/artifacts"
to_install=()
for i in "${!ARTIFACT_NAMES[@]}"; do
  name="${ARTIFACT_NAMES[$i]}"
  if [ -f "${stamp_dir}/${name}" ] && [ "$(cat "${stamp_dir}/${name}")" = "${ARTIFACT_URLS[$i]}" ]; then continue; fi
  # A node already in the cluster changes its Kubernetes version only in the upgrade step
  # (day2/upgrade), in kubeadm's order, never here behind kubeadm's back.
  case "${name}" in
    kubeadm | kubelet | kubectl)
      if [ -f "${stamp_dir}/${name}" ] && [ -f "${ROOT}/etc/kubernetes/kubelet.conf" ]; then
        phase "${name}: left as installed; this node's upgrade step changes its version"
        continue
      fi
      ;;
  esac
  fetch_verified "${i}" "${work}"
  to_install+=("${i}")
done

phase "installing ${#to_install[@]} verified download(s)"
mkdir -p "${ROOT}/usr/local/bin" "${ROOT}/opt/cni/bin" "${stamp_dir}"
for i in "${to_install[@]}"; do
  name="${ARTIFACT_NAMES[$i]}"
  case "${name}" in
    crictl) tar -xzf "${work}/${name}" -C "${ROOT}/usr/local/bin" crictl ;;
    cni-plugins) tar -xzf "${work}/${name}" -C "${ROOT}/opt/cni/bin" ;;
    *) install -m 0755 "${work}/${name}" "${ROOT}/usr/local/bin/${name}" ;;
  esac
  printf '%s\n' "${ARTIFACT_URLS[$i]}" >"${stamp_dir}/${name}"
done

phase "kubelet unit with kubeadm's drop-in, and crictl's endpoint"
changed=0
write_file /etc/systemd/system/kubelet.service 0644 "${KUBELET_UNIT}" && changed=1
write_file /etc/systemd/system/kubelet.service.d/10-kubeadm.conf 0644 "${KUBEADM_DROPIN}" && changed=1
write_file /etc/crictl.yaml 0644 "runtime-endpoint: unix://${CRI_SOCKET}" || true
if [ "${changed}" = 1 ]; then systemctl daemon-reload; fi
systemctl enable kubelet >/dev/null

if [ "${PULL_IMAGES}" = true ]; then
  phase "kubeadm's images for Kubernetes ${K8S_VERSION}"
  # Asked of the runtime as kubeadm's own preflight asks (CRIRuntime.ImageExists: crictl inspecti,
  # cmd/kubeadm/app/util/runtime/runtime.go). kubeadm 1.15's `config images pull` exits 0 when a
  # pull fails (cmd/kubeadm/app/cmd/config.go drops PullControlPlaneImages' error), so presence is
  # checked again after it.
  image_flags=(--kubernetes-version "v${K8S_VERSION}" --image-repository "${IMAGE_REPOSITORY}")
  missing_images() {
    local image listed
    listed=$(kubeadm config images list "${image_flags[@]}")
    for image in ${listed}; do
      crictl -r "unix://${CRI_SOCKET}" inspecti "${image}" >/dev/null 2>&1 || echo "${image}"
    done
  }
  absent=$(missing_images)
  if [ -n "${absent}" ]; then
    kubeadm config images pull "${image_flags[@]}" --cri-socket "${CRI_SOCKET}" >/dev/null
    absent=$(missing_images)
    if [ -n "${absent}" ]; then
      echo "kubeadm config images pull left images missing: ${absent//$'\n'/ }" >&2
      exit 1
    fi
  fi
fi
phase "ready"
