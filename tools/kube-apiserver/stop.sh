#!/usr/bin/env bash
# Stops the etcd and kube-apiserver that start.sh started, by the PIDs it recorded in its state
# directory: the one of the kubeconfig given as $1, or $KEYTURN_APISERVER_DIR.
set -u
if [ -n "${1:-}" ]; then state=$(dirname "$1"); else state=${KEYTURN_APISERVER_DIR:?give the kubeconfig start.sh printed, or KEYTURN_APISERVER_DIR}; fi
for name in kube-apiserver etcd; do
  pidfile="${state}/${name}.pid"
  [ -f "${pidfile}" ] || continue
  pid=$(cat "${pidfile}")
  if kill -0 "${pid}" 2>/dev/null; then
    kill "${pid}"
    for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  rm -f "${pidfile}"
done
