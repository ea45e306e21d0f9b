#!/usr/bin/env bash
# Builds what a real node needs from the same Debian `kubernetes` source package (v1.20.2) as
# tools/kube-apiserver: kubelet, kube-controller-manager (Deployments, ReplicaSets, garbage
# collection) and a static `pause` for the pod sandbox. Caches them, keyed by the source tarball's
# checksum, and prints the cache directory. Installs containerd, runc, the CNI plugins and
# busybox-static from Debian's packages. Needs root for apt-get (CI runs as root).
set -euo pipefail

CACHE_ROOT=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}
# The source package is shared with the API server's build: one download.
WORK=${CACHE_ROOT}/kube-apiserver-build
log() { printf '[kube-node build] %s\n' "$*" >&2; }
# shellcheck source=../kube-apiserver/source.sh
. "$(dirname "$0")/../kube-apiserver/source.sh"

build() {
  local out
  out=${CACHE_ROOT}/kube-node-$(source_key)
  if [ -x "${out}/kubelet" ] && [ -x "${out}/kube-controller-manager" ] && [ -x "${out}/pause" ]; then
    log "cached: ${out}"
    echo "${out}"; return
  fi
  unpack_tree
  log "generating openapi (about a minute)"
  (cd "${TREE}" && rm -rf _output && make gen_openapi >&2)
  mkdir -p "${out}.tmp"
  log "building kubelet (about 4 minutes on 2 cores)"
  (cd "${TREE}" && go build -tags 'selinux,notest,providerless,dockerless' -trimpath -ldflags "${LDFLAGS}" \
      -o "${out}.tmp/kubelet" ./cmd/kubelet >&2)
  log "building kube-controller-manager (about 4 minutes on 2 cores)"
  (cd "${TREE}" && go build -tags 'selinux,notest,providerless' -trimpath -ldflags "${LDFLAGS}" \
      -o "${out}.tmp/kube-controller-manager" ./cmd/kube-controller-manager >&2)
  log "building pause"
  gcc -Os -static -o "${out}.tmp/pause" "${TREE}/build/pause/linux/pause.c" >&2
  strip "${out}.tmp/pause"
  rm -rf "${out}" && mv "${out}.tmp" "${out}"
  remove_tree
  log "built ${out}"
  echo "${out}"
}

install_packages containerd:containerd runc:runc /usr/lib/cni/loopback:containernetworking-plugins \
  /bin/busybox:busybox-static gcc:gcc
fetch_source
build
