#!/usr/bin/env bash
# Runs a command with a real kube-apiserver of $KEYTURN_KUBE_VERSION (tools/kube-apiserver/start.sh)
# named in KEYTURN_IT_KUBECONFIG, then stops the servers and removes their private state directory
# (certificates, etcd data, logs), whether the command passed or not. Exits with its status.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
kubeconfig=$(tools/kube-apiserver/start.sh)
cleanup() {
  tools/kube-apiserver/stop.sh "${kubeconfig}"
  case "$(dirname "${kubeconfig}")" in
    */keyturn-apiserver.*) rm -rf "$(dirname "${kubeconfig}")" ;;
  esac
}
trap cleanup EXIT
echo "[kube-apiserver] v${KEYTURN_KUBE_VERSION:-1.37.2} up after $(( $(date +%s) - started )) s"
KEYTURN_IT_KUBECONFIG="${kubeconfig}" "$@"
