#!/usr/bin/env bash
# Host firewall for one node: SSH and the API server only from the admin CIDRs (and the API
# server from the cluster), kubelet, etcd and Calico only between cluster nodes, the ingress
# gateway's ports (PUBLIC_TCP_PORTS: the NodePort range, or 80 and 443) from anywhere. Our own
# chain, rebuilt whole on every run, so a run converges; a systemd unit re-applies it at boot,
# before the network comes up. Before it changes anything, it refuses rules that would drop the
# SSH client it runs under: every later step of `pulumi up` and `pulumi destroy` connects the same way.
set -euo pipefail

CHAIN=OSLO-MESH-INPUT
# -w: wait for the xtables lock that kube-proxy and Calico take on a live node, instead of failing.
ipt() { iptables -w "$@"; }

apply_rules() {
  ipt -N "${CHAIN}" 2>/dev/null || ipt -F "${CHAIN}"
  ipt -A "${CHAIN}" -i lo -j RETURN
  ipt -A "${CHAIN}" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  local cidr
  for cidr in "${ADMIN_CIDRS[@]}"; do
    ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport 22 -j RETURN
    if [ "${ROLE}" = control-plane ]; then ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport "${API_PORT}" -j RETURN; fi
  done
  for cidr in "${CLUSTER_CIDRS[@]}"; do
    if [ "${ROLE}" = control-plane ]; then
      ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport "${API_PORT}" -j RETURN
      ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport 2379:2380 -j RETURN
    fi
    ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport 10250 -j RETURN
    ipt -A "${CHAIN}" -p tcp -s "${cidr}" --dport 179 -j RETURN
    ipt -A "${CHAIN}" -p 4 -s "${cidr}" -j RETURN
  done
  ipt -A "${CHAIN}" -s "${POD_CIDR}" -j RETURN
  local port
  for port in "${PUBLIC_TCP_PORTS[@]}"; do ipt -A "${CHAIN}" -p tcp --dport "${port}" -j RETURN; done
  ipt -A "${CHAIN}" -p icmp -j RETURN
  ipt -A "${CHAIN}" -j DROP
  ipt -C INPUT -j "${CHAIN}" 2>/dev/null || ipt -I INPUT 1 -j "${CHAIN}"
}

ipv4_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# ipv4_in_cidr IP CIDR
ipv4_in_cidr() {
  local ip net bits mask
  ip=$(ipv4_to_int "$1")
  net=$(ipv4_to_int "${2%/*}")
  bits=${2#*/}
  mask=$(((0xffffffff << (32 - bits)) & 0xffffffff))
  [ $((ip & mask)) -eq $((net & mask)) ]
}

# sshd sets SSH_CLIENT ("address port port") for every session, commands included.
refuse_to_lock_out_ssh_client() {
  local client="${SSH_CLIENT:-}" cidr
  client="${client%% *}"
  client="${client#::ffff:}"
  # Not over SSH (a console, or the boot unit), or over IPv6, which these IPv4 rules leave alone.
  [[ "${client}" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 0
  for cidr in "${ADMIN_CIDRS[@]}"; do
    if ipv4_in_cidr "${client}" "${cidr}"; then return 0; fi
  done
  echo "refusing to apply the firewall on ${NODE_NAME}: it admits SSH only from oslo-mesh:kubernetes.adminCidrs (${ADMIN_CIDRS[*]}), and this SSH session comes from ${client}: every later connection from there (the kubeadm steps, the kubeconfig, the Kubernetes provider, pulumi destroy) would be dropped. Add ${client}/32, or its network, to oslo-mesh:kubernetes.adminCidrs, or run pulumi from a machine inside them (the release flow's self-hosted runner in Oslo). Nothing was changed." >&2
  exit 1
}

if [ "${1:-}" = --apply ]; then
  apply_rules
  exit 0
fi

refuse_to_lock_out_ssh_client

# Keep this very script, parameters included, as the boot-time rule set.
install -D -m 0755 "$0" "${ROOT}/usr/local/sbin/oslo-mesh-firewall"
# Before network-pre.target, the way systemd documents for firewalls (systemd.special(7),
# https://systemd.io/NETWORK_ONLINE/): no traffic reaches the node before its rules. Without
# default dependencies, as firewall units that run before the network do (nftables-early,
# netfilter-persistent): the default After=basic.target would hold the network back until then.
unit="[Unit]
Description=oslo-mesh host firewall
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target kubelet.service shutdown.target
After=local-fs.target
Conflicts=shutdown.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/oslo-mesh-firewall --apply
RemainAfterExit=yes

[Install]
WantedBy=sysinit.target"
mkdir -p "${ROOT}/etc/systemd/system"
if [ ! -f "${ROOT}/etc/systemd/system/oslo-mesh-firewall.service" ] || [ "$(cat "${ROOT}/etc/systemd/system/oslo-mesh-firewall.service")" != "${unit}" ]; then
  printf '%s\n' "${unit}" >"${ROOT}/etc/systemd/system/oslo-mesh-firewall.service"
  systemctl daemon-reload
  # reenable: the unit's install target may have changed, and with it the symlink that enables it.
  systemctl reenable oslo-mesh-firewall.service >/dev/null
fi
systemctl enable oslo-mesh-firewall.service >/dev/null
apply_rules
echo "[firewall ${NODE_NAME}] ${ROLE} rules applied"
