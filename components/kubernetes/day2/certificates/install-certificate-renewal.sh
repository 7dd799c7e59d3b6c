#!/usr/bin/env bash
# Installs (ACTION=install) or removes (ACTION=remove) the certificate-renewal job and its
# timer on this control plane, and runs the job once now, so a cluster whose certificates are
# already close to expiry is renewed at `pulumi up`. Idempotent.
set -euo pipefail

# oslo-mesh:include ../timer.sh

if [ "${ACTION}" = remove ]; then
  remove_timer certificate-renewal
  echo "[certificates ${NODE_NAME}] renewal timer removed" >&2
  exit 0
fi
install_timer certificate-renewal "${RENEW_SCRIPT}" "${SERVICE_UNIT}" "${TIMER_UNIT}"
"${ROOT}/usr/local/lib/oslo-mesh/certificate-renewal.sh" >&2
