# Included by init.sh, join.sh and node-lifecycle.sh (`# oslo-mesh:include`). What the cluster
# really is, asked of the API server and of etcd: never inferred from files kubeadm writes
# halfway through (admin.conf in init's kubeconfig phase, kubelet.conf before a control plane
# joins etcd). The caller sets `kubeconfig`.

kube() { kubectl --kubeconfig "${kubeconfig}" "$@"; }

api_healthy() { [ "$(kube get --raw /healthz 2>/dev/null)" = ok ]; }

node_exists() { kube get node "$1" -o name >/dev/null 2>&1; }

node_ready() { [ "$(kube get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }

# kubeadm writes this annotation last when a node joins (kubelet-start) or in init's upload-config.
node_annotated_by_kubeadm() { [ -n "$(kube get node "$1" -o jsonpath='{.metadata.annotations.kubeadm\.alpha\.kubernetes\.io/cri-socket}' 2>/dev/null)" ]; }

# mark-control-plane is the last phase of a control plane's init or join.
node_is_control_plane() { grep -qx "node/$1" <<<"$(kube get nodes -l node-role.kubernetes.io/master -o name 2>/dev/null)"; }

# etcdctl_at NODE ENDPOINT ARGS...: etcdctl inside the etcd pod of control plane NODE, run as
# kubeadm 1.15 runs its own liveness probe there (cmd/kubeadm/app/util/staticpod/utils.go
# EtcdProbe), against ENDPOINT. etcd 3.3 needs ETCDCTL_API=3.
etcdctl_at() {
  local node=$1 endpoint=$2
  shift 2
  kube -n kube-system exec "etcd-${node}" -- /bin/sh -ec "ETCDCTL_API=3 etcdctl --endpoints=${endpoint} --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key $*"
}

# etcdctl_on NODE ARGS...: against that node's own member.
etcdctl_on() {
  local node=$1
  shift
  etcdctl_at "${node}" "https://[127.0.0.1]:2379" "$@"
}

# etcd_member VIA NAME PEER_URL: the `member list` row ("ID, status, name, peer URLs, client URLs"
# and, from etcd 3.4, ", is learner") of the member with that name, or with that peer URL (a
# member added by a join that never started has no name yet).
etcd_member() {
  etcdctl_on "$1" member list | awk -F', ' -v name="$2" -v peer="$3" '$3 == name || $4 == peer'
}

# etcd_member_healthy VIA NAME PEER_URL: the member is started and commits a proposal.
etcd_member_healthy() {
  local row client
  row=$(etcd_member "$@" 2>/dev/null) || return 1
  [ "$(awk -F', ' '{ print $2 }' <<<"${row}")" = started ] || return 1
  client=$(awk -F', ' '{ split($5, urls, ","); print urls[1] }' <<<"${row}")
  etcdctl_at "$1" "${client}" endpoint health >/dev/null 2>&1
}

# etcd_remove_member VIA ID: etcd refuses a reconfiguration for a few seconds after a member
# became active ("etcdserver: unhealthy cluster"); kubeadm retries it too (etcdutil.RemoveMember).
etcd_remove_member() {
  local err
  for _ in $(seq 1 15); do
    if err=$(etcdctl_on "$1" member remove "$2" 2>&1 >/dev/null); then return 0; fi
    sleep 2
  done
  printf '%s\n' "${err}" >&2
  return 1
}

# wait_until SECONDS COMMAND...: runs COMMAND every 2 s until it succeeds or SECONDS have passed.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "${SECONDS}" -lt "${deadline}" ] || return 1
    sleep 2
  done
}
