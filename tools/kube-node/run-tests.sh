#!/usr/bin/env bash
# The third test phase: the real-node tests (tag "kube-node") on kubelet v1.20.2 with containerd
# and runc (tools/kube-node/start.sh) beside a real kube-apiserver. Fails, never skips, when the
# API server or the node cannot be built or started.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
# kubelet 1.20.2 beside an API server of its own release (a kubelet may not be newer than its
# API server, nor more than three minors older).
kubeconfig=$(KEYTURN_KUBE_VERSION=1.20.2 tools/kube-apiserver/start.sh)
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
echo "[kube-node] API server and node up after $(( $(date +%s) - started )) s"
KEYTURN_IT_KUBECONFIG="${kubeconfig}" KEYTURN_IT_NODE="${node_dir}" \
  mvn -B verify -Dgroups=kube-node -Dkeyturn.excluded.groups=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
