#!/usr/bin/env bash
# The real-node phase: the real-node tests (tag "kube-node") on a kubelet of a current release with
# containerd and runc (tools/kube-node/start.sh) beside a kube-apiserver of the same release.
# Fails, never skips, when the API server or the node cannot be built or started.
#
# usage: run-tests.sh [VERSION]   (default 1.37.2; a version tools/kubernetes pins)
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
export KEYTURN_NODE_VERSION=${1:-${KEYTURN_NODE_VERSION:-1.37.2}}
# kubelet beside an API server of its own release (a kubelet may not be newer than its API server).
kubeconfig=$(KEYTURN_KUBE_VERSION=${KEYTURN_NODE_VERSION} tools/kube-apiserver/start.sh)
node_dir=
cleanup() {
  status=$?
  if [ -n "${node_dir}" ]; then
    if [ "${status}" -ne 0 ]; then
      echo "[kube-node] the last lines of kubelet's log:" >&2
      tail -40 "${node_dir}/logs/kubelet.log" >&2 || true
    fi
    tools/kube-node/stop.sh "${node_dir}"
    rm -rf "${node_dir}"
  fi
  tools/kube-apiserver/stop.sh "${kubeconfig}"
  case "$(dirname "${kubeconfig}")" in
    */keyturn-apiserver.*) rm -rf "$(dirname "${kubeconfig}")" ;;
  esac
}
trap cleanup EXIT
node_dir=$(tools/kube-node/start.sh "${kubeconfig}")
bindir=$(tools/kubernetes/build.sh "${KEYTURN_NODE_VERSION}" kube-apiserver kubelet 2>/dev/null)
echo "[kube-node] $("${bindir}/kube-apiserver" --version | sed 's/Kubernetes/kube-apiserver/') and $("${bindir}/kubelet" --version | sed 's/Kubernetes/kubelet/') up after $(( $(date +%s) - started )) s"
# The Go driver v1.6.0 (the benchmarks' build, cached) for the side-by-side test on this node.
go_driver=$(benchmarks/go-driver/build.sh)
KEYTURN_IT_KUBECONFIG="${kubeconfig}" KEYTURN_IT_NODE="${node_dir}" KEYTURN_GO_DRIVER="${go_driver}" \
  mvn -B verify -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dgroups=kube-node -Dkeyturn.excluded.groups=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
