#!/usr/bin/env bash
# Builds the Secrets Store CSI Driver v1.6.0 (the Go driver) for the side-by-side benchmark, from
# the Go module proxy by package name, pinned by go.mod and go.sum here; cached under
# ~/.cache/keyturn/go-driver-<checksum of this directory>, so a warm run builds nothing. Prints the
# binary's path. The proxy does not serve monis.app/mlog, the driver's logging helper: ./mlog
# stands in for the five functions the driver calls (klog text lines; no JSON log format).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$here/go.mod" "$here/go.sum" "$here/tools.go" "$here/mlog/go.mod" "$here/mlog/mlog.go" | sha256sum | cut -c1-12)
out=${XDG_CACHE_HOME:-$HOME/.cache}/keyturn/go-driver-$key
bin=$out/secrets-store-csi-driver
if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null; then
    echo "go-driver/build.sh: Go 1.25 or newer is needed on PATH (with the Go module proxy)" >&2
    exit 1
  fi
  mkdir -p "$out"
  echo "== building the Go driver v1.6.0 into $out (once)" >&2
  (cd "$here" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin.tmp" \
    sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver) >&2
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
