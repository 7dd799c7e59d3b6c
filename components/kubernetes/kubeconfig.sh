#!/usr/bin/env bash
# Prints the cluster's admin kubeconfig. Its output is a secret: the command that runs this
# keeps it out of the logs and marks it secret.
set -euo pipefail

for _ in $(seq 1 60); do
  [ -s "${ROOT}/etc/kubernetes/admin.conf" ] && break
  sleep 1
done
cat "${ROOT}/etc/kubernetes/admin.conf"
