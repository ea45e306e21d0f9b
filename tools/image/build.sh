#!/usr/bin/env bash
# Builds Keyturn's image (the archive distribution/target/keyturn-image.tar, tagged as the chart's
# default image) and, if asked, loads it into a container runtime or pushes it to a registry.
#
# usage: tools/image/build.sh [--load containerd[=SOCKET] | --load kind[=CLUSTER]] [--push IMAGE]
#   --load containerd   ctr images import into the k8s.io namespace (root; SOCKET defaults to
#                       /run/containerd/containerd.sock), where kubelet finds it
#   --load kind         kind load image-archive into the cluster (default "kind")
#   --push IMAGE        push to a registry as IMAGE (e.g. registry.example/keyturn:0.1.0), with the
#                       credentials of ~/.docker/config.json or a credential helper (Jib's rules)
# Needs JDK 17 and Maven 3.8; no Docker engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
load= push=
while [ $# -gt 0 ]; do
  case "$1" in
    --load) load=${2:?--load needs containerd or kind}; shift 2 ;;
    --load=*) load=${1#--load=}; shift ;;
    --push) push=${2:?--push needs an image name}; shift 2 ;;
    --push=*) push=${1#--push=}; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tools/image/build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
log() { printf '[image] %s\n' "$*" >&2; }

log "building the modules and the image archive (tests skipped)"
mvn -B -q install -DskipTests -Dmaven.javadoc.skip=true -pl distribution -am
mvn -B -q pre-integration-test -DskipTests -Dkeyturn.image.skip=false -pl distribution
tar=distribution/target/keyturn-image.tar
image=$(tar -xOf "${tar}" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')
log "built ${image}: ${tar} ($(du -h "${tar}" | cut -f1))"

case "${load}" in
  "") ;;
  containerd|containerd=*)
    socket=${load#containerd}; socket=${socket#=}; socket=${socket:-/run/containerd/containerd.sock}
    ctr --address "${socket}" -n k8s.io images import "${tar}" >&2
    log "loaded ${image} into containerd at ${socket} (namespace k8s.io)" ;;
  kind|kind=*)
    cluster=${load#kind}; cluster=${cluster#=}; cluster=${cluster:-kind}
    command -v kind >/dev/null || { log "kind is not on PATH"; exit 1; }
    kind load image-archive "${tar}" --name "${cluster}" >&2
    log "loaded ${image} into kind cluster ${cluster}" ;;
  *) log "--load takes containerd[=SOCKET] or kind[=CLUSTER], not ${load}"; exit 2 ;;
esac

if [ -n "${push}" ]; then
  mvn -B -q pre-integration-test jib:build -DskipTests -Dkeyturn.image.skip=false -Dkeyturn.image="${push}" -pl distribution
  log "pushed ${push}"
fi
echo "${image}"
