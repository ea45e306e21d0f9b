#!/usr/bin/env bash
# Builds Kubernetes components of one current release from the Go module proxy, by package name:
# tools/kubernetes/v<VERSION>/go.mod requires k8s.io/kubernetes v<VERSION> and replaces each of its
# ./staging modules with the published k8s.io/<name> v0.<minor>.<patch>, and lists the commands it
# builds as tool directives, so its go.sum pins every module they need. Nothing fetched is kept in
# the repository: the module cache and the binaries live under ~/.cache (the binaries keyed by
# version and by the go.mod/go.sum checksum).
#
# Usage: tools/kubernetes/build.sh VERSION [COMPONENT ...]   (default: kube-apiserver; also
# kubelet, kube-controller-manager, kube-scheduler)
# Prints the directory that holds the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:?usage: build.sh VERSION [COMPONENT ...]}
shift
components=("${@:-kube-apiserver}")
module=${here}/v${version}
[ -f "${module}/go.mod" ] || { echo "[kubernetes build] no ${module}/go.mod: versions here: $(ls "${here}" | grep '^v' | tr '\n' ' ')" >&2; exit 2; }
log() { printf '[kubernetes %s build] %s\n' "${version}" "$*" >&2; }
command -v go >/dev/null || { log "needs Go 1.26+ (the Go toolchain this release asks for)"; exit 1; }

key=$(cat "${module}/go.mod" "${module}/go.sum" | sha256sum | cut -c1-12)
out=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}/kubernetes-v${version}-${key}
minor=$(echo "${version}" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=v${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean"
done
mkdir -p "${out}"
for component in "${components[@]}"; do
  if [ -x "${out}/${component}" ]; then
    log "cached: ${out}/${component}"
    continue
  fi
  log "building ${component} (several minutes on 2 cores the first time)"
  started=$(date +%s)
  (cd "${module}" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags providerless \
      -ldflags "${ldflags}" -o "${out}/${component}.tmp" "k8s.io/kubernetes/cmd/${component}")
  mv "${out}/${component}.tmp" "${out}/${component}"
  log "built ${component} in $(( $(date +%s) - started )) s: $("${out}/${component}" --version 2>/dev/null || true)"
done
echo "${out}"
