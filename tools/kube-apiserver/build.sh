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

install_packages() {
  local need=()
  command -v go >/dev/null || need+=(golang-go)
  command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || need+=(etcd-server)
  command -v rsync >/dev/null || need+=(rsync)
  command -v openssl >/dev/null || need+=(openssl)
  command -v curl >/dev/null || need+=(curl)
  [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || need+=(golang-github-modern-go-reflect2-dev)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  fi
}

# A private apt configuration whose sources also carry deb-src, derived from the machine's own file.
fetch_source() {
  local apt_dir=${WORK}/apt
  mkdir -p "${apt_dir}/lists/partial" "${apt_dir}/sources.list.d" "${WORK}/src"
  local system_sources=/etc/apt/sources.list.d/debian.sources
  [ -f "${system_sources}" ] || { log "no ${system_sources}: cannot derive deb-src entries"; exit 1; }
  # deb822 files are only read from a parts directory, under a .sources name.
  sed -E 's/^Types:.*/Types: deb deb-src/' "${system_sources}" >"${apt_dir}/sources.list.d/debian.sources"
  local opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=${apt_dir}/sources.list.d"
              -o "Dir::State::Lists=${apt_dir}/lists")
  if ! ls "${WORK}"/src/kubernetes_*.orig.tar.* >/dev/null 2>&1; then
    log "fetching Debian's kubernetes source package"
    apt-get "${opts[@]}" update -qq >&2
    (cd "${WORK}/src" && apt-get "${opts[@]}" source --download-only kubernetes >&2)
  fi
}

build() {
  local orig sum out
  orig=$(ls "${WORK}"/src/kubernetes_*.orig.tar.* | head -1)
  sum=$(sha256sum "${orig}" | cut -c1-16)
  out=${CACHE_ROOT}/kube-apiserver-${sum}
  if [ -x "${out}/kube-apiserver" ]; then
    log "cached: ${out}/kube-apiserver"
    echo "${out}"; return
  fi
  local gopath=${WORK}/gopath tree=${WORK}/gopath/src/k8s.io/kubernetes
  rm -rf "${tree}" && mkdir -p "${tree}"
  log "unpacking $(basename "${orig}")"
  tar -xf "${orig}" -C "${tree}" --strip-components=1
  export GOPATH=${gopath} GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS= GOCACHE=${WORK}/gocache
  # The vendored reflect2 1.0.1 crashes under Go >= 1.18; Debian's 1.0.2 does not.
  local r2=${tree}/vendor/github.com/modern-go/reflect2
  rm -f "${r2}"/*.go "${r2}"/*.s
  cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "${r2}/"
  cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "${r2}/" 2>/dev/null || true
  rm -f "${r2}"/*_test.go
  log "generating openapi (about a minute)"
  (cd "${tree}" && rm -rf _output && make gen_openapi >&2)
  local pkg=k8s.io/kubernetes/vendor/k8s.io
  local ldflags="-s -w"
  for v in component-base/version client-go/pkg/version; do
    ldflags+=" -X ${pkg}/${v}.gitVersion=v1.20.2 -X ${pkg}/${v}.gitMajor=1 -X ${pkg}/${v}.gitMinor=20"
    ldflags+=" -X ${pkg}/${v}.gitTreeState=clean"
  done
  log "building kube-apiserver (about 5 minutes on 2 cores)"
  mkdir -p "${out}.tmp"
  (cd "${tree}" && go build -tags 'selinux,notest,providerless' -trimpath -ldflags "${ldflags}" \
      -o "${out}.tmp/kube-apiserver" ./cmd/kube-apiserver >&2)
  rm -rf "${out}" && mv "${out}.tmp" "${out}"
  # The tree and Go cache are large; the binary is all later runs need.
  rm -rf "${tree}" "${GOCACHE}"
  log "built ${out}/kube-apiserver"
  echo "${out}"
}

install_packages
fetch_source
build
