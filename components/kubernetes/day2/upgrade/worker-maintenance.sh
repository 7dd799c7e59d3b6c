#!/usr/bin/env bash
# Runs on the first control plane for one worker's upgrade (a worker's own credentials cannot
# evict pods). Idempotent.
# ACTION=drain: before the worker's upgrade, unless it already runs TARGET_VERSION: marks it
#   (annotation oslo-mesh.io/upgrade-drained) and drains it (kubectl drain --ignore-daemonsets,
#   as the kubeadm upgrade guides do).
# ACTION=uncordon: after it, waits until the worker reports TARGET_VERSION and Ready, then
#   uncordons it if this upgrade drained it (a node cordoned by hand stays cordoned).
set -euo pipefail

phase() { echo "[upgrade ${NODE_NAME}] $*" >&2; }
target="v${TARGET_VERSION}"
mark="oslo-mesh.io/upgrade-drained"
kubectl_() { kubectl --kubeconfig "${ROOT}/etc/kubernetes/admin.conf" "$@"; }
reported_version() { kubectl_ get node "${NODE_NAME}" -o jsonpath='{.status.nodeInfo.kubeletVersion}'; }
ready() { [ "$(kubectl_ get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
marked() { [ -n "$(kubectl_ get node "${NODE_NAME}" -o jsonpath='{.metadata.annotations.oslo-mesh\.io/upgrade-drained}')" ]; }

case "${ACTION}" in
  drain)
    if [ "$(reported_version)" = "${target}" ]; then
      phase "runs ${target} already; not drained"
      exit 0
    fi
    kubectl_ annotate node "${NODE_NAME}" "${mark}=${target}" --overwrite >/dev/null
    phase "draining (at most ${DRAIN_TIMEOUT})"
    if ! out=$(kubectl_ drain "${NODE_NAME}" --ignore-daemonsets --delete-local-data --timeout="${DRAIN_TIMEOUT}" 2>&1); then
      echo "could not drain ${NODE_NAME} for its upgrade to ${target}; it stays cordoned. kubectl said:" >&2
      echo "${out}" >&2
      exit 1
    fi
    phase "drained"
    ;;
  uncordon)
    for _ in $(seq 1 "${WAIT_SECONDS}"); do
      if [ "$(reported_version)" = "${target}" ] && ready; then break; fi
      sleep 1
    done
    if [ "$(reported_version)" != "${target}" ] || ! ready; then
      echo "${NODE_NAME} does not report ${target} and Ready after ${WAIT_SECONDS}s; left cordoned" >&2
      exit 1
    fi
    if marked; then
      kubectl_ uncordon "${NODE_NAME}" >/dev/null
      kubectl_ annotate node "${NODE_NAME}" "${mark}-" >/dev/null
      phase "uncordoned at ${target}"
    else
      phase "at ${target}"
    fi
    ;;
  *)
    echo "unknown ACTION ${ACTION}" >&2
    exit 1
    ;;
esac
