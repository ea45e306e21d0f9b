#!/usr/bin/env bash
# Builds a real kube-apiserver (Kubernetes v1.20.2) from Debian's `kubernetes` source package and
# caches it, keyed by the source tarball's checksum. Prints the path of the cached binary directory.
#
# Needs root for apt-get (CI runs as root). Touches nothing under /etc/apt: the deb-src list is a
# private copy derived from the machine's own deb822 sources file.
set -euo pipefail

CACHE_ROOT=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}
WORK=${CACHE_ROOT}/kube-apiserver-build
log() { printf '[kube-apiserver build] %s\n' "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
# shellcheck source=source.sh
. "$(dirname "$0")/source.sh"

build() {
  local out
  out=${CACHE_ROOT}/kube-apiserver-$(source_key)
  if [ -x "${out}/kube-apiserver" ]; then
    log "cached: ${out}/kube-apiserver"
    echo "${out}"; return
  fi
  unpack_tree
  log "generating openapi (about a minute)"
  (cd "${TREE}" && rm -rf _output && make gen_openapi >&2)
  log "building kube-apiserver (about 5 minutes on 2 cores)"
  mkdir -p "${out}.tmp"
  (cd "${TREE}" && go build -tags 'selinux,notest,providerless' -trimpath -ldflags "${LDFLAGS}" \
      -o "${out}.tmp/kube-apiserver" ./cmd/kube-apiserver >&2)
  rm -rf "${out}" && mv "${out}.tmp" "${out}"
  remove_tree
  log "built ${out}/kube-apiserver"
  echo "${out}"
}

install_packages
fetch_source
build
