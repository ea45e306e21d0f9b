#!/usr/bin/env bash
# Builds etcd of one release from the Go module proxy, by package name: tools/etcd/v<VERSION>/go.mod
# requires go.etcd.io/etcd/server/v3 v<VERSION> (whose root package is the etcd command) and its
# go.sum pins every module. Nothing fetched is kept in the repository: the binary lives under
# ~/.cache/keyturn, keyed by version and by the go.mod/go.sum checksum.
#
# Usage: tools/etcd/build.sh [VERSION]   (default 3.6.16). Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-3.6.16}
module=${here}/v${version}
log() { printf '[etcd %s build] %s\n' "${version}" "$*" >&2; }
[ -f "${module}/go.mod" ] || { log "no ${module}/go.mod: versions here: $(ls "${here}" | grep '^v' | tr '\n' ' ')"; exit 2; }
command -v go >/dev/null || { log "needs Go 1.26+"; exit 1; }
key=$(cat "${module}/go.mod" "${module}/go.sum" | sha256sum | cut -c1-12)
out=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}/etcd-v${version}-${key}
if [ ! -x "${out}/etcd" ]; then
  log "building etcd (about a minute on 2 cores the first time)"
  mkdir -p "${out}"
  (cd "${module}" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" \
      -o "${out}/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "${out}/etcd.tmp" "${out}/etcd"
fi
echo "${out}/etcd"
