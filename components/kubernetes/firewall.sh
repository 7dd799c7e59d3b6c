#!/usr/bin/env bash
# Host firewall for one node: SSH and the API server only from the admin CIDRs (and the API
# server from the cluster), kubelet, etcd and Calico only between cluster nodes, the ingress
# gateway's ports (PUBLIC_TCP_PORTS: the NodePort range, or 80 and 443) from anywhere. Our own chain, rebuilt whole on every run, so a run
# converges; a systemd unit re-applies it at boot.
set -euo pipefail

CHAIN=OSLO-MESH-INPUT
apply_rules() {
  iptables -N "${CHAIN}" 2>/dev/null || iptables -F "${CHAIN}"
  iptables -A "${CHAIN}" -i lo -j RETURN
  iptables -A "${CHAIN}" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  local cidr
  for cidr in "${ADMIN_CIDRS[@]}"; do
    iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport 22 -j RETURN
    if [ "${ROLE}" = control-plane ]; then iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport "${API_PORT}" -j RETURN; fi
  done
  for cidr in "${CLUSTER_CIDRS[@]}"; do
    if [ "${ROLE}" = control-plane ]; then
      iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport "${API_PORT}" -j RETURN
      iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport 2379:2380 -j RETURN
    fi
    iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport 10250 -j RETURN
    iptables -A "${CHAIN}" -p tcp -s "${cidr}" --dport 179 -j RETURN
    iptables -A "${CHAIN}" -p 4 -s "${cidr}" -j RETURN
  done
  iptables -A "${CHAIN}" -s "${POD_CIDR}" -j RETURN
  local port
  for port in "${PUBLIC_TCP_PORTS[@]}"; do iptables -A "${CHAIN}" -p tcp --dport "${port}" -j RETURN; done
  iptables -A "${CHAIN}" -p icmp -j RETURN
  iptables -A "${CHAIN}" -j DROP
  iptables -C INPUT -j "${CHAIN}" 2>/dev/null || iptables -I INPUT 1 -j "${CHAIN}"
}

if [ "${1:-}" = --apply ]; then
  apply_rules
  exit 0
fi

# Keep this very script, parameters included, as the boot-time rule set.
install -D -m 0755 "$0" "${ROOT}/usr/local/sbin/oslo-mesh-firewall"
unit="[Unit]
Description=oslo-mesh host firewall
Before=kubelet.service
After=network-pre.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/oslo-mesh-firewall --apply
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target"
mkdir -p "${ROOT}/etc/systemd/system"
if [ ! -f "${ROOT}/etc/systemd/system/oslo-mesh-firewall.service" ] || [ "$(cat "${ROOT}/etc/systemd/system/oslo-mesh-firewall.service")" != "${unit}" ]; then
  printf '%s\n' "${unit}" >"${ROOT}/etc/systemd/system/oslo-mesh-firewall.service"
  systemctl daemon-reload
fi
systemctl enable oslo-mesh-firewall.service >/dev/null
apply_rules
echo "[firewall ${NODE_NAME}] ${ROLE} rules applied"
