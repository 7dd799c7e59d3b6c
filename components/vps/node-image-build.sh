#!/usr/bin/env bash
# Runs inside the node image's builder VM at its first boot (a systemd unit that cloud-init starts):
# the node preparation (INSTALL_SCRIPT: install only, no node identity), then what makes the disk
# an image every node can be cloned from (cloud-init's instance state and logs, the machine id,
# apt's caches), then the verdict on the result disk, which the hypervisor reads once the builder
# has powered off: "oslo-mesh-node-image ok <image>", or "... failed <image>: <the log's tail>".
# It powers off either way. Each clone gets its own identity at its first boot: cloud-init runs
# as for a new instance (hostname, users, network, new SSH host keys) and systemd makes a machine id.
# ROOT is empty in the builder; the tests point it at a sandbox.
set -euo pipefail

verdict() { printf 'oslo-mesh-node-image %s\n' "$1" | dd of="${RESULT_DEVICE}" conv=notrunc,fsync status=none; }

mkdir -p "$(dirname "${LOG}")"
if bash "${INSTALL_SCRIPT}" >"${LOG}" 2>&1; then
  cloud-init clean --logs >>"${LOG}" 2>&1
  truncate -s 0 "${ROOT}/etc/machine-id"
  rm -f "${ROOT}/var/lib/dbus/machine-id"
  apt-get clean
  verdict "ok ${NODE_IMAGE}"
else
  verdict "failed ${NODE_IMAGE}: $(tail -n 20 "${LOG}" | tr '\n' '|')"
fi
sync
systemctl poweroff
