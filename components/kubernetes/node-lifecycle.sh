#!/usr/bin/env bash
# Runs on the first control-plane node, for another node. Every action is idempotent, and they
# are the steps of kubeadm's own order for adding and removing a node:
#   admit   before the node joins: the bootstrap token exists (it expires after a day) and, for
#           a control plane, the certificates are uploaded (they expire after two hours), so a
#           node added months later joins like the first ones. Secrets on stdin.
#   wait    after the join: the node is registered and Ready (so the pod network reached it),
#           and schedulable (a node joined again after a drain comes back uncordoned).
#   drain   removal, first: evicts its pods. A drain that cannot finish fails and names the pods
#           and the PodDisruptionBudgets that hold it.
#           (Then, on the node itself, reset.sh runs `kubeadm reset`, which removes a control
#           plane's etcd member while its Node and the kubeadm config still exist.)
#   forget  removal, last: deletes the Node and, for a control plane, checks etcd's member list
#           and removes the member if kubeadm reset could not.
set -euo pipefail

# oslo-mesh:include stdin-secrets.sh
# oslo-mesh:include cluster-state.sh
kubeconfig="${ROOT}/etc/kubernetes/admin.conf"
say() { echo "[node ${NODE_NAME}] $*"; }

admit() {
  read_stdin_secrets
  config_file=$(mktemp)
  trap 'rm -f "${config_file}"' EXIT
  write_secret_config "${ADMIT_CONFIG}" "${config_file}"
  # `kubeadm token list` prints each token whole (id.secret) in its first column, under a header
  # (cmd/kubeadm/app/cmd/token.go); `token create` fails for an id that exists. Compare ids only:
  # the listing stays in this pipe.
  local ids
  ids=$(kubeadm token list --kubeconfig "${kubeconfig}" | awk 'NR > 1 { split($1, t, "."); print t[1] }')
  if ! grep -qx "${token%%.*}" <<<"${ids}"; then
    kubeadm token create --config "${config_file}" --kubeconfig "${kubeconfig}" >/dev/null
  fi
  if [ "${CONTROL_PLANE}" = true ]; then
    kubeadm init phase upload-certs --upload-certs --skip-certificate-key-print --config "${config_file}" >/dev/null 2>&1
  fi
  say "admitted"
}

registered_and_ready() { node_exists "${NODE_NAME}" && node_ready "${NODE_NAME}"; }

wait_ready() {
  if ! wait_until "${WAIT_SECONDS}" registered_and_ready; then
    if node_exists "${NODE_NAME}"; then
      echo "node ${NODE_NAME} registered but is not Ready after ${WAIT_SECONDS}s (its kubelet or the pod network): kubectl describe node ${NODE_NAME}" >&2
    else
      echo "node ${NODE_NAME} did not register within ${WAIT_SECONDS}s" >&2
    fi
    exit 1
  fi
  kube uncordon "${NODE_NAME}" >/dev/null
  say "registered and Ready"
}

# The pods whose eviction a PodDisruptionBudget refused, with the budgets of their namespaces
# that allow no disruption now (kubectl 1.15 names the pod, not the budget).
explain_blocked_drain() {
  local blocked=$1 pods budgets name ns
  pods=$(kube get pods --all-namespaces --field-selector "spec.nodeName=${NODE_NAME}" --no-headers -o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name 2>/dev/null || true)
  budgets=$(kube get pdb --all-namespaces --no-headers -o custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,MIN:.spec.minAvailable,ALLOWED:.status.disruptionsAllowed 2>/dev/null || true)
  echo "node ${NODE_NAME} could not be drained within ${DRAIN_SECONDS}s: PodDisruptionBudgets refuse to evict these pods:" >&2
  local namespaces=()
  for name in ${blocked}; do
    ns=$(awk -v n="${name}" '$2 == n { print $1; exit }' <<<"${pods}")
    echo "  pod ${ns:-?}/${name}" >&2
    namespaces+=("${ns}")
  done
  echo "blocking PodDisruptionBudgets (no disruption allowed now):" >&2
  awk -v list=" ${namespaces[*]} " '$4 == "0" && index(list, " " $1 " ") { print "  poddisruptionbudget " $1 "/" $2 " (minAvailable " $3 ")" }' <<<"${budgets}" | sort >&2
  echo "Give those workloads more replicas on other nodes (or turn their budgets off where one replica is enough, as in dev), then run again. The node stays cordoned." >&2
}

drain() {
  if ! node_exists "${NODE_NAME}"; then
    say "not in the cluster: nothing to drain"
    return 0
  fi
  local out blocked
  if out=$(kube drain "${NODE_NAME}" --ignore-daemonsets --delete-local-data --force --timeout="${DRAIN_SECONDS}s" 2>&1 >/dev/null); then
    say "drained"
    return 0
  fi
  blocked=$(sed -n "s/^error when evicting pod \"\([^\"]*\)\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.*/\1/p" <<<"${out}" | sort -u)
  if [ -n "${blocked}" ]; then
    explain_blocked_drain "${blocked}"
  else
    echo "kubectl drain ${NODE_NAME} failed:" >&2
    printf '%s\n' "${out}" >&2
  fi
  exit 1
}

forget() {
  kube delete node "${NODE_NAME}" --ignore-not-found >/dev/null
  say "deleted from the cluster"
  [ "${CONTROL_PLANE}" = true ] || return 0
  local row
  if ! row=$(etcd_member "${FIRST_CONTROL_PLANE}" "${NODE_NAME}" "https://${NODE_IP}:2380"); then
    echo "could not read etcd's member list through ${FIRST_CONTROL_PLANE} to check that ${NODE_NAME}'s member is gone" >&2
    exit 1
  fi
  if [ -n "${row}" ]; then
    say "still in etcd's member list (${row}): kubeadm reset did not remove it; removing it"
    etcd_remove_member "${FIRST_CONTROL_PLANE}" "${row%%,*}"
    row=$(etcd_member "${FIRST_CONTROL_PLANE}" "${NODE_NAME}" "https://${NODE_IP}:2380")
    if [ -n "${row}" ]; then
      echo "etcd member of ${NODE_NAME} is still listed after removing it: ${row}" >&2
      exit 1
    fi
  fi
  if ! etcd_member_healthy "${FIRST_CONTROL_PLANE}" "${FIRST_CONTROL_PLANE}" "https://${FIRST_CONTROL_PLANE_IP}:2380"; then
    echo "etcd on ${FIRST_CONTROL_PLANE} is not healthy after removing ${NODE_NAME}'s member" >&2
    exit 1
  fi
  say "not in etcd's member list; $(etcdctl_on "${FIRST_CONTROL_PLANE}" member list | wc -l) member(s) left, healthy"
}

case "${ACTION}" in
  admit) admit ;;
  wait) wait_ready ;;
  drain) drain ;;
  forget) forget ;;
  *)
    echo "unknown ACTION ${ACTION}" >&2
    exit 1
    ;;
esac
