# Shared by the builds of tools/kube-apiserver and benchmarks/kubelet-writer (sourced, not run):
# installs the build's Debian packages, downloads Debian's `kubernetes` source package once, and
# unpacks it into a GOPATH tree ready for `go build`. Callers set WORK (the build's cache directory) and log(),
# and source tools/processes.sh.

# $@: extra Debian packages the caller needs, as "command:package" or "/path:package" pairs.
install_packages() {
  install_debian_packages go:golang-go etcd:etcd-server rsync:rsync openssl:openssl curl:curl \
    /usr/share/gocode/src/github.com/modern-go/reflect2:golang-github-modern-go-reflect2-dev "$@"
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

# The source tarball; its checksum keys the caches of what is built from it.
source_tarball() { ls "${WORK}"/src/kubernetes_*.orig.tar.* | head -1; }
source_key() { sha256sum "$(source_tarball)" | cut -c1-16; }

# Unpacks the tree into ${WORK}/gopath, swaps the vendored reflect2 for Debian's and exports the Go
# environment for a GOPATH-mode build. Sets TREE and LDFLAGS.
unpack_tree() {
  local gopath=${WORK}/gopath
  TREE=${gopath}/src/k8s.io/kubernetes
  rm -rf "${TREE}" && mkdir -p "${TREE}"
  log "unpacking $(basename "$(source_tarball)")"
  tar -xf "$(source_tarball)" -C "${TREE}" --strip-components=1
  export GOPATH=${gopath} GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS= GOCACHE=${WORK}/gocache
  # The vendored reflect2 1.0.1 crashes under Go >= 1.18; Debian's 1.0.2 does not.
  local r2=${TREE}/vendor/github.com/modern-go/reflect2
  rm -f "${r2}"/*.go "${r2}"/*.s
  cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.go "${r2}/"
  cp /usr/share/gocode/src/github.com/modern-go/reflect2/*.s "${r2}/" 2>/dev/null || true
  rm -f "${r2}"/*_test.go
  local pkg=k8s.io/kubernetes/vendor/k8s.io v
  LDFLAGS="-s -w"
  for v in component-base/version client-go/pkg/version; do
    LDFLAGS+=" -X ${pkg}/${v}.gitVersion=v1.20.2 -X ${pkg}/${v}.gitMajor=1 -X ${pkg}/${v}.gitMinor=20"
    LDFLAGS+=" -X ${pkg}/${v}.gitTreeState=clean"
  done
}

# The tree and Go cache are large; the binaries are all later runs need.
remove_tree() { rm -rf "${TREE}" "${GOCACHE}"; }
