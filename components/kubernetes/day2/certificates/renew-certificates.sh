#!/usr/bin/env bash
# Keeps this control plane's kubeadm certificates from expiring. Run by
# oslo-mesh-certificate-renewal.timer: checks every certificate kubeadm renews (the PKI and the
# client certificates inside admin.conf, controller-manager.conf and scheduler.conf) with
# openssl, and when one has fewer than RENEW_BEFORE_DAYS left: `kubeadm alpha certs renew all`,
# new kubeconfigs where that kubeadm does not renew them (1.13, 1.14), a check that every
# certificate now lasts, and a restart of the control-plane static pods so they load them.
# Fails loudly (non-zero, on stderr and in the journal) when any of that fails; a restart that
# did not finish is done again at the next run. On the node where `kubeadm init` ran, it also
# points kubelet.conf at the kubelet's rotated client certificate (kubeadm before 1.17 leaves it
# with a certificate inside that nothing renews).
set -euo pipefail

log() { echo "[certificates ${NODE_NAME}] $*"; }
k8s="${ROOT}/etc/kubernetes"
pki="${k8s}/pki"
seconds=$((RENEW_BEFORE_DAYS * 86400))
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

# The certificates kubeadm renews (not the CAs: kubeadm never renews those, they last ten years).
certificates() {
  local f
  for f in apiserver apiserver-kubelet-client apiserver-etcd-client front-proxy-client etcd/server etcd/peer etcd/healthcheck-client; do
    if [ -f "${pki}/${f}.crt" ]; then echo "${pki}/${f}.crt"; fi
  done
  for f in admin.conf controller-manager.conf scheduler.conf; do
    [ -f "${k8s}/${f}" ] || continue
    sed -n 's/^ *client-certificate-data: *//p' "${k8s}/${f}" | head -n 1 | base64 -d >"${work}/${f}.crt"
    echo "${work}/${f}.crt"
  done
}
name_of() { local n="${1#"${pki}/"}"; n="${n#"${work}/"}"; echo "${n%.crt}"; }

# expiring: the certificates with fewer than RENEW_BEFORE_DAYS days left, one per line.
expiring() {
  local c
  for c in $(certificates); do
    if ! openssl x509 -noout -checkend "${seconds}" -in "${c}" >/dev/null; then
      echo "$(name_of "${c}") ($(openssl x509 -noout -enddate -in "${c}" | sed 's/^notAfter=//'))"
    fi
  done
}

due=()
fail() {
  echo "CERTIFICATE RENEWAL FAILED on ${NODE_NAME}: $*" >&2
  if [ "${#due[@]}" -gt 0 ]; then echo "the control plane stops working when these expire: ${due[*]}" >&2; fi
  exit 1
}

# A control-plane manifest held aside: an etcd restore in progress (etcd-restore.sh holds etcd's
# and the API server's), or a restart below that stopped halfway. Touch nothing.
held="${k8s}/oslo-mesh/held-manifests"
for component in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  if [ -f "${held}/${component}.yaml" ]; then
    fail "${held#"${ROOT}"}/${component}.yaml is held aside (an etcd restore in progress, or a restart that stopped halfway); once no restore runs, move it back to /etc/kubernetes/manifests"
  fi
done

# The node where `kubeadm init` ran: kubeadm before 1.17 writes its kubelet.conf with the
# kubelet's first client certificate inside (client-certificate-data), and nothing renews it.
# The kubelet rotates its certificate into the file below (kubeadm turns rotation on), but reads
# kubelet.conf again whenever it starts, and a year after init the certificate there has expired
# (kubernetes/kubeadm#1753). As kubeadm's documentation asks of clusters made before 1.17, and as
# kubeadm 1.17's own init does: kubelet.conf names the rotated file, then the kubelet restarts.
kubelet_conf="${k8s}/kubelet.conf"
rotated=/var/lib/kubelet/pki/kubelet-client-current.pem
if [ -f "${kubelet_conf}" ] && grep -q '^ *client-certificate-data:' "${kubelet_conf}"; then
  if [ -s "${ROOT}${rotated}" ]; then
    mkdir -p "${k8s}/oslo-mesh"
    chmod 0700 "${k8s}/oslo-mesh"
    cp -a "${kubelet_conf}" "${k8s}/oslo-mesh/kubelet.conf-before-$(date -u +%Y%m%dT%H%M%SZ)"
    sed -e "s#^\( *\)client-certificate-data:.*#\1client-certificate: ${rotated}#" \
      -e "s#^\( *\)client-key-data:.*#\1client-key: ${rotated}#" "${kubelet_conf}" >"${kubelet_conf}.oslo-mesh"
    chmod 0600 "${kubelet_conf}.oslo-mesh"
    mv "${kubelet_conf}.oslo-mesh" "${kubelet_conf}"
    systemctl restart kubelet
    log "kubelet.conf now names the kubelet's rotated client certificate (${rotated}); the kubelet restarted"
  else
    log "kubelet.conf holds the kubelet's first client certificate, and the kubelet has not rotated it yet (no ${rotated}); looking again at the next run"
  fi
fi

# The control-plane components read their certificates at start: restart each static pod by
# moving its manifest out and back (the kubelet stops, then starts it), one at a time. Until all
# four are back, a file says so, and the next run restarts them again.
pending="${k8s}/oslo-mesh/certificates-restart-pending"
running() { [ -n "$(crictl ps --name "^${1}\$" --state running -q 2>/dev/null)" ]; }
restart_control_plane() {
  mkdir -p "${held}"
  local component manifest stopped
  for component in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    manifest="${k8s}/manifests/${component}.yaml"
    [ -f "${manifest}" ] || continue
    mv "${manifest}" "${held}/${component}.yaml"
    stopped=false
    for _ in $(seq 1 "${WAIT_SECONDS}"); do
      if ! running "${component}"; then stopped=true; break; fi
      sleep 1
    done
    mv "${held}/${component}.yaml" "${manifest}"
    [ "${stopped}" = true ] || fail "${component} did not stop within ${WAIT_SECONDS}s of its manifest moving out, so it still runs with its old certificates; its manifest is back, and the next run restarts it again"
    for _ in $(seq 1 "${WAIT_SECONDS}"); do
      running "${component}" && break
      sleep 1
    done
    running "${component}" || fail "${component} did not come back within ${WAIT_SECONDS}s after its restart"
    log "restarted ${component}"
  done
  rm -f "${pending}"
}

if [ -f "${pending}" ]; then
  log "the restart after the renewal of $(cat "${pending}") did not finish; restarting the control-plane pods again"
  restart_control_plane
fi

if [ "${HAS_CHECK_EXPIRATION}" = true ]; then
  kubeadm alpha certs check-expiration || true
fi
mapfile -t due < <(expiring)
if [ "${#due[@]}" -eq 0 ]; then
  log "every certificate is valid for more than ${RENEW_BEFORE_DAYS} days; nothing to do"
  exit 0
fi
log "renewing: fewer than ${RENEW_BEFORE_DAYS} days left for ${due[*]}"

backup="${k8s}/oslo-mesh/certificates-before-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "${backup}"
chmod 0700 "${backup}"
cp -a "${pki}" "${backup}/pki"
for f in admin.conf controller-manager.conf scheduler.conf; do
  if [ -f "${k8s}/${f}" ]; then cp -a "${k8s}/${f}" "${backup}/${f}"; fi
done

renew=(alpha certs renew all)
# Before 1.15 kubeadm renews from a config; without one it looks the version up on the internet.
if [ "${RENEWS_KUBECONFIGS}" != true ]; then renew+=(--config "${ROOT}${KUBEADM_CONFIG}"); fi
if ! kubeadm "${renew[@]}" >"${work}/renew.log" 2>&1; then
  cat "${work}/renew.log" >&2
  fail "kubeadm alpha certs renew all exited non-zero; the previous files are in ${backup#"${ROOT}"}"
fi
cat "${work}/renew.log"
if [ "${RENEWS_KUBECONFIGS}" != true ]; then
  # kubeadm before 1.15 renews only the PKI: write the three kubeconfigs anew from the cluster's
  # kubeadm config, with client certificates signed by the same CA.
  for f in admin controller-manager scheduler; do
    rm -f "${k8s}/${f}.conf"
    if ! kubeadm init phase kubeconfig "${f}" --config "${ROOT}${KUBEADM_CONFIG}" >>"${work}/kubeconfig.log" 2>&1; then
      cat "${work}/kubeconfig.log" >&2
      cp -a "${backup}/${f}.conf" "${k8s}/${f}.conf" 2>/dev/null || true
      fail "kubeadm init phase kubeconfig ${f} failed"
    fi
  done
fi

mapfile -t still < <(expiring)
if [ "${#still[@]}" -gt 0 ]; then
  fail "still fewer than ${RENEW_BEFORE_DAYS} days left after renewal for ${still[*]} (an external CA? see the output above)"
fi

date -u +%Y-%m-%dT%H:%M:%SZ >"${pending}"
restart_control_plane
date -u +%Y-%m-%dT%H:%M:%SZ >"${k8s}/oslo-mesh/certificates-renewed-at"
log "renewed; admin.conf now lasts until $(openssl x509 -noout -enddate -in <(sed -n 's/^ *client-certificate-data: *//p' "${k8s}/admin.conf" | head -n 1 | base64 -d) | sed 's/^notAfter=//'). Run pulumi up to hand out the new kubeconfig."
