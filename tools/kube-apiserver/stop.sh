#!/usr/bin/env bash
# Stops the etcd and kube-apiserver that start.sh started, by the PIDs it recorded.
set -u
state=${KEYTURN_APISERVER_DIR:-/tmp/keyturn-apiserver}
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
