# Included by init.sh, join.sh and node-lifecycle.sh (`# oslo-mesh:include`, see
# components/shared/script.ts). Secrets arrive on standard input as key=value lines, and the
# kubeadm config template is filled in by bash substitution, so no secret appears on a
# command line or in the output.
read_stdin_secrets() {
  token="" certificate_key="" ca_cert_hash=""
  local key value
  while IFS='=' read -r key value; do
    case "${key}" in
      token) token="${value}" ;;
      certificateKey) certificate_key="${value}" ;;
      caCertHash) ca_cert_hash="${value}" ;;
    esac
  done
  [[ "${token}" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || { echo "no valid bootstrap token on standard input" >&2; exit 1; }
}

# write_secret_config TEMPLATE FILE: the template with the secrets in, readable by root only.
write_secret_config() {
  local rendered="${1//__BOOTSTRAP_TOKEN__/${token}}"
  rendered="${rendered//__CA_CERT_HASH__/${ca_cert_hash}}"
  (umask 077 && printf '%s\n' "${rendered//__CERTIFICATE_KEY__/${certificate_key}}" >"$2")
}
