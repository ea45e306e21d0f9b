#!/usr/bin/env bash
# Builds kubelet-writer-bench (main.go beside this script) against kubelet's own atomic writer of
# Kubernetes v1.37.2, from the Go module proxy by package name: a scratch copy of
# tools/kubernetes/v1.37.2's go.mod and go.sum (which pin every module kubelet needs) with main.go
# as a package of it. Caches the binary keyed by those files' checksums; prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=1.37.2
module=${here}/../../tools/kubernetes/v${version}
log() { printf '[kubelet-writer build] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "needs Go 1.26+"; exit 1; }
key=$(cat "${module}/go.mod" "${module}/go.sum" "${here}/main.go" | sha256sum | cut -c1-12)
out=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}/kubelet-writer-v${version}-${key}
if [ -x "${out}/kubelet-writer-bench" ]; then
  echo "${out}/kubelet-writer-bench"; exit 0
fi
scratch=$(mktemp -d /tmp/keyturn-kubelet-writer.XXXXXX)
trap 'rm -rf "${scratch}"' EXIT
cp "${module}/go.mod" "${module}/go.sum" "${scratch}/"
mkdir -p "${scratch}/cmd/kubelet-writer-bench" "${out}"
cp "${here}/main.go" "${scratch}/cmd/kubelet-writer-bench/main.go"
log "building kubelet's atomic writer (Kubernetes v${version}) into a benchmark"
(cd "${scratch}" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" \
    -o "${out}/kubelet-writer-bench.tmp" ./cmd/kubelet-writer-bench >&2)
mv "${out}/kubelet-writer-bench.tmp" "${out}/kubelet-writer-bench"
echo "${out}/kubelet-writer-bench"
