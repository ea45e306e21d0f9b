#!/usr/bin/env bash
# Builds kubelet-writer-bench (main.go beside this script) inside Debian's `kubernetes` source tree,
# v1.20.2, the same source package tools/kube-apiserver and tools/kube-node build from, so the
# benchmark runs kubelet's own atomic writer. Caches the binary keyed by the source tarball's and
# main.go's checksums; prints its path. Needs root for apt-get when the source is not cached yet.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}
# The source package is shared with the API server's build: one download.
WORK=${CACHE_ROOT}/kube-apiserver-build
log() { printf '[kubelet-writer build] %s\n' "$*" >&2; }
# shellcheck source=../../tools/processes.sh
. "${here}/../../tools/processes.sh"
# shellcheck source=../../tools/kube-apiserver/source.sh
. "${here}/../../tools/kube-apiserver/source.sh"

install_packages
fetch_source
out=${CACHE_ROOT}/kubelet-writer-$(source_key)-$(sha256sum "${here}/main.go" | cut -c1-12)
if [ -x "${out}/kubelet-writer-bench" ]; then
  echo "${out}/kubelet-writer-bench"; exit 0
fi
unpack_tree
mkdir -p "${TREE}/cmd/kubelet-writer-bench" "${out}.tmp"
cp "${here}/main.go" "${TREE}/cmd/kubelet-writer-bench/main.go"
log "building kubelet's atomic writer into a benchmark (a minute or two)"
(cd "${TREE}" && go build -trimpath -ldflags "${LDFLAGS}" -o "${out}.tmp/kubelet-writer-bench" \
    ./cmd/kubelet-writer-bench >&2)
rm -rf "${out}" && mv "${out}.tmp" "${out}"
remove_tree
echo "${out}/kubelet-writer-bench"
