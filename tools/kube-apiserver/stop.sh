#!/usr/bin/env bash
# Stops the etcd and kube-apiserver that start.sh started, by the PIDs it recorded in its state
# directory: the one of the kubeconfig given as $1, or $KEYTURN_APISERVER_DIR.
set -u
if [ -n "${1:-}" ]; then state=$(dirname "$1"); else state=${KEYTURN_APISERVER_DIR:?give the kubeconfig start.sh printed, or KEYTURN_APISERVER_DIR}; fi
log() { printf '[kube-apiserver] %s\n' "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
for name in kube-apiserver etcd; do
  stop_pid_file "${state}/${name}.pid"
done
