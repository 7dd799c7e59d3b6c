# Included by prepare-node.sh and day2/upgrade/upgrade-node.sh (`# oslo-mesh:include`, see
# components/shared/script.ts). Needs the arrays ARTIFACT_NAMES, ARTIFACT_URLS,
# ARTIFACT_SUM_URLS, ARTIFACT_SUMS and ARTIFACT_SUM_TOOLS (render.ts, artifacts()).

# fetch_verified INDEX DIR: downloads artifact INDEX into DIR/NAME and checks it against its
# pinned checksum, or else the one its project publishes beside it. Exits 1, naming the URL,
# when no checksum can be had or it does not match, so nothing unverified is ever installed.
fetch_verified() {
  local i="$1" dir="$2" name url expected actual
  name="${ARTIFACT_NAMES[$i]}"
  url="${ARTIFACT_URLS[$i]}"
  curl -fsSL --retry 3 -o "${dir}/${name}" "${url}"
  expected="${ARTIFACT_SUMS[$i]}"
  if [ -z "${expected}" ]; then
    if ! curl -fsSL --retry 3 -o "${dir}/${name}.sum" "${ARTIFACT_SUM_URLS[$i]}"; then
      echo "no published checksum at ${ARTIFACT_SUM_URLS[$i]}; pin it in the stack config (e.g. kubernetes.crictlSha256); nothing was installed" >&2
      exit 1
    fi
    expected=$(awk '{ print $1; exit }' "${dir}/${name}.sum")
  fi
  actual=$("${ARTIFACT_SUM_TOOLS[$i]}" "${dir}/${name}" | awk '{ print $1 }')
  if [ -z "${expected}" ] || [ "${expected}" != "${actual}" ]; then
    echo "checksum mismatch for ${url}: expected ${expected:-nothing}, got ${actual}; nothing was installed" >&2
    exit 1
  fi
}
