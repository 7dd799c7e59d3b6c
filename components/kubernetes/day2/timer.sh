# Included by the day-2 installers (`# oslo-mesh:include ../timer.sh`, see
# components/shared/script.ts): install a job script with its systemd service and timer, or
# remove them. ROOT prefixes every path (empty on a node, a sandbox in tests).

# put_file PATH MODE CONTENT: writes only when the content differs; exit 0 when it changed.
put_file() {
  local path="${ROOT}$1"
  # Compared without trailing newlines: command substitution drops them on both sides.
  if [ -f "${path}" ] && [ "$(cat "${path}")" = "$(printf '%s' "$3")" ]; then return 1; fi
  mkdir -p "$(dirname "${path}")"
  (umask 077 && printf '%s\n' "$3" >"${path}.tmp")
  chmod "$2" "${path}.tmp"
  mv "${path}.tmp" "${path}"
}

# install_timer NAME SCRIPT SERVICE_UNIT TIMER_UNIT: /usr/local/lib/oslo-mesh/NAME.sh and
# oslo-mesh-NAME.{service,timer}, the timer enabled and started.
install_timer() {
  local changed=0
  put_file "/usr/local/lib/oslo-mesh/$1.sh" 0700 "$2" && changed=1
  put_file "/etc/systemd/system/oslo-mesh-$1.service" 0644 "$3" && changed=1
  put_file "/etc/systemd/system/oslo-mesh-$1.timer" 0644 "$4" && changed=1
  if [ "${changed}" = 1 ]; then systemctl daemon-reload; fi
  systemctl enable --now "oslo-mesh-$1.timer" >/dev/null
}

# remove_timer NAME: stops and removes what install_timer made. Idempotent.
remove_timer() {
  systemctl disable --now "oslo-mesh-$1.timer" >/dev/null 2>&1 || true
  rm -f "${ROOT}/usr/local/lib/oslo-mesh/$1.sh" "${ROOT}/etc/systemd/system/oslo-mesh-$1.service" "${ROOT}/etc/systemd/system/oslo-mesh-$1.timer"
  systemctl daemon-reload
}
