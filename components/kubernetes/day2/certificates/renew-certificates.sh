#!/usr/bin/env bash
# Keeps this control plane's kubeadm certificates from expiring. Run by
# oslo-mesh-certificate-renewal.timer: checks every certificate kubeadm renews (the PKI and the
# client certificates inside admin.conf, controller-manager.conf and scheduler.conf) with
# openssl, and when one has fewer than RENEW_BEFORE_DAYS left: `kubeadm alpha certs renew all`,
# new kubeconfigs where that kubeadm does not renew them (1.13, 1.14), a check that every
# certificate now lasts, and a restart of the control-plane static pods so they load them.
# Fails loudly (non-zero, on stderr and in the journal) when any of that fails.
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

if [ "${HAS_CHECK_EXPIRATION}" = true ]; then
  kubeadm alpha certs check-expiration || true
fi
mapfile -t due < <(expiring)
if [ "${#due[@]}" -eq 0 ]; then
  log "every certificate is valid for more than ${RENEW_BEFORE_DAYS} days; nothing to do"
  exit 0
fi
log "renewing: fewer than ${RENEW_BEFORE_DAYS} days left for ${due[*]}"

fail() {
  echo "CERTIFICATE RENEWAL FAILED on ${NODE_NAME}: $*" >&2
  echo "the control plane stops working when these expire: ${due[*]}" >&2
  exit 1
}

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

# The control-plane components read their certificates at start: restart each static pod by
# moving its manifest out and back (the kubelet stops, then starts it), one at a time.
held="${k8s}/oslo-mesh/held-manifests"
mkdir -p "${held}"
for component in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  manifest="${k8s}/manifests/${component}.yaml"
  [ -f "${manifest}" ] || continue
  mv "${manifest}" "${held}/${component}.yaml"
  for _ in $(seq 1 "${WAIT_SECONDS}"); do
    [ -z "$(crictl ps --name "^${component}\$" --state running -q 2>/dev/null)" ] && break
    sleep 1
  done
  mv "${held}/${component}.yaml" "${manifest}"
  for _ in $(seq 1 "${WAIT_SECONDS}"); do
    [ -n "$(crictl ps --name "^${component}\$" --state running -q 2>/dev/null)" ] && break
    sleep 1
  done
  [ -n "$(crictl ps --name "^${component}\$" --state running -q 2>/dev/null)" ] || fail "${component} did not come back within ${WAIT_SECONDS}s after its restart"
  log "restarted ${component}"
done

date -u +%Y-%m-%dT%H:%M:%SZ >"${k8s}/oslo-mesh/certificates-renewed-at"
log "renewed; admin.conf now lasts until $(openssl x509 -noout -enddate -in <(sed -n 's/^ *client-certificate-data: *//p' "${k8s}/admin.conf" | head -n 1 | base64 -d) | sed 's/^notAfter=//'). Run pulumi up to hand out the new kubeconfig."
