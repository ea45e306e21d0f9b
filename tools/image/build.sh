#!/usr/bin/env bash
# Builds Keyturn's image for one or both architectures (Docker-format archives under
# distribution/target, tagged as the chart's default image) and, if asked, loads it into a
# container runtime or pushes it to a registry.
#
# usage: tools/image/build.sh [--arch amd64|arm64|all] [--load containerd[=SOCKET] | --load kind[=CLUSTER]] [--push IMAGE]
#   --arch              the machine's own (default), the other one, or all: amd64 and arm64. The
#                       other architecture's JDK and C libraries come from its Debian packages
#                       (src/image/foreign-packages.sh; adds it to dpkg, root)
#   --load containerd   ctr images import into the k8s.io namespace (root; SOCKET defaults to
#                       /run/containerd/containerd.sock), where kubelet finds it
#   --load kind         kind load image-archive into the cluster (default "kind")
#   --push IMAGE        push to a registry as IMAGE (e.g. registry.example/keyturn:0.1.0) with crane
#                       (tools/crane, Go 1.26), with the credentials of ~/.docker/config.json; with
#                       --arch all, one index over both images
# Loading takes the machine's own architecture. Needs JDK 17 and Maven 3.8; no Docker engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
own=$(dpkg --print-architecture)
arch=${own} load= push=
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=${2:?--arch needs amd64, arm64 or all}; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --load) load=${2:?--load needs containerd or kind}; shift 2 ;;
    --load=*) load=${1#--load=}; shift ;;
    --push) push=${2:?--push needs an image name}; shift 2 ;;
    --push=*) push=${1#--push=}; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/image/build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
log() { printf '[image] %s\n' "$*" >&2; }
case "${arch}" in
  all) arches="amd64 arm64" ;;
  amd64|arm64) arches=${arch} ;;
  *) log "--arch takes amd64, arm64 or all, not ${arch}"; exit 2 ;;
esac
if [ -n "${load}" ] && ! printf '%s\n' ${arches} | grep -qx "${own}"; then
  log "--load needs an image of this machine's architecture (${own}); add --arch ${own} or --arch all"; exit 2
fi

log "building the modules (tests skipped)"
mvn -B -q install -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl distribution -am >&2
tar_of() { if [ "$1" = "${own}" ]; then echo distribution/target/keyturn-image.tar; else echo "distribution/target/keyturn-image-$1.tar"; fi; }
for a in ${arches}; do
  tar=$(tar_of "${a}")
  if [ "${a}" = "${own}" ]; then
    mvn -B -q pre-integration-test -DskipTests -Dkeyturn.image.skip=false -pl distribution >&2
  else
    packages=${PWD}/distribution/target/image-packages-${a}
    log "unpacking the ${a} JDK and C libraries from Debian's packages"
    jmods=$(sh distribution/src/image/foreign-packages.sh "${a}" "${packages}")
    mvn -B -q pre-integration-test -DskipTests -Dkeyturn.image.skip=false -pl distribution \
        -Dkeyturn.image.arch="${a}" -Dkeyturn.image.jmods="${jmods}" \
        -Dkeyturn.image.packages="${packages}" -Dkeyturn.image.strip=--strip-java-debug-attributes \
        -Dkeyturn.image.root="${PWD}/distribution/target/image-root-${a}" -Dkeyturn.image.tar="${PWD}/${tar}" >&2
  fi
  log "built ${a}: ${tar} ($(du -h "${tar}" | cut -f1))"
done
image=$(tar -xOf "$(tar_of "${arches%% *}")" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')

case "${load}" in
  "") ;;
  containerd|containerd=*)
    socket=${load#containerd}; socket=${socket#=}; socket=${socket:-/run/containerd/containerd.sock}
    ctr --address "${socket}" -n k8s.io images import "$(tar_of "${own}")" >&2
    log "loaded ${image} into containerd at ${socket} (namespace k8s.io)" ;;
  kind|kind=*)
    cluster=${load#kind}; cluster=${cluster#=}; cluster=${cluster:-kind}
    command -v kind >/dev/null || { log "kind is not on PATH"; exit 1; }
    kind load image-archive "$(tar_of "${own}")" --name "${cluster}" >&2
    log "loaded ${image} into kind cluster ${cluster}" ;;
  *) log "--load takes containerd[=SOCKET] or kind[=CLUSTER], not ${load}"; exit 2 ;;
esac

if [ -n "${push}" ]; then
  crane=$(tools/crane/build.sh)
  if [ "${arches}" = "${arch}" ]; then
    "${crane}" push "$(tar_of "${arch}")" "${push}" >&2
  else
    refs=()
    for a in ${arches}; do
      refs+=(-m "$("${crane}" push "$(tar_of "${a}")" "${push}-${a}")")
    done
    "${crane}" index append "${refs[@]}" -t "${push}" >&2
  fi
  log "pushed ${push} (${arches})"
fi
echo "${image}"
