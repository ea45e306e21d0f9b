#!/usr/bin/env bash
# Builds what a real node needs from the same Debian `kubernetes` source package (v1.20.2) as
# tools/kube-apiserver: kubelet, kube-controller-manager (Deployments, ReplicaSets, garbage
# collection), kube-scheduler (DaemonSet pods are scheduled) and a static `pause` for the pod
# sandbox. Caches them, keyed by the source tarball's
# checksum, and prints the cache directory. Installs containerd, runc, the CNI plugins and
# busybox-static from Debian's packages. Needs root for apt-get (CI runs as root).
set -euo pipefail

CACHE_ROOT=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}
# The source package is shared with the API server's build: one download.
WORK=${CACHE_ROOT}/kube-apiserver-build
log() { printf '[kube-node build] %s\n' "$*" >&2; }
# shellcheck source=../kube-apiserver/source.sh
. "$(dirname "$0")/../kube-apiserver/source.sh"

# Builds what is missing, each binary renamed into place only when whole.
build() {
  local out missing=() b
  out=${CACHE_ROOT}/kube-node-$(source_key)
  for b in kubelet kube-controller-manager kube-scheduler pause; do
    [ -x "${out}/${b}" ] || missing+=("${b}")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "cached: ${out}"
    echo "${out}"; return
  fi
  unpack_tree
  log "generating openapi (about a minute)"
  (cd "${TREE}" && rm -rf _output && make gen_openapi >&2)
  mkdir -p "${out}"
  for b in "${missing[@]}"; do
    case "${b}" in
      pause)
        log "building pause"
        gcc -Os -static -o "${out}/pause.tmp" "${TREE}/build/pause/linux/pause.c" >&2
        strip "${out}/pause.tmp" ;;
      kubelet)
        log "building kubelet (about 4 minutes on 2 cores)"
        (cd "${TREE}" && go build -tags 'selinux,notest,providerless,dockerless' -trimpath \
            -ldflags "${LDFLAGS}" -o "${out}/kubelet.tmp" ./cmd/kubelet >&2) ;;
      *)
        log "building ${b} (about 4 minutes on 2 cores)"
        (cd "${TREE}" && go build -tags 'selinux,notest,providerless' -trimpath \
            -ldflags "${LDFLAGS}" -o "${out}/${b}.tmp" "./cmd/${b}" >&2) ;;
    esac
    mv "${out}/${b}.tmp" "${out}/${b}"
  done
  remove_tree
  log "built ${missing[*]} in ${out}"
  echo "${out}"
}

install_packages containerd:containerd runc:runc /usr/lib/cni/loopback:containernetworking-plugins \
  /bin/busybox:busybox-static gcc:gcc
fetch_source
build
