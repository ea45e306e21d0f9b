#!/usr/bin/env bash
# The second test phase: the Kubernetes-facing tests (tag "kubernetes") against a real
# kube-apiserver: v1.20.2 built from Debian's source package by default, or the release given as
# $1 (1.37.2, 1.35.4: built from the Go module proxy, tools/kubernetes). Fails if the server cannot
# be built or started; it never falls back to the mock.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KEYTURN_KUBE_VERSION=${1:-${KEYTURN_KUBE_VERSION:-1.20.2}}
started=$(date +%s)
kubeconfig=$(tools/kube-apiserver/start.sh)
# Stop the servers, then remove their private state directory (certificates, etcd data, logs).
cleanup() {
  tools/kube-apiserver/stop.sh "${kubeconfig}"
  case "$(dirname "${kubeconfig}")" in
    */keyturn-apiserver.*) rm -rf "$(dirname "${kubeconfig}")" ;;
  esac
}
trap cleanup EXIT
echo "[kube-apiserver] v${KEYTURN_KUBE_VERSION} up after $(( $(date +%s) - started )) s"
KEYTURN_IT_KUBECONFIG="${kubeconfig}" mvn -B verify -Dgroups=kubernetes -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
