#!/usr/bin/env bash
# Starts etcd and a real kube-apiserver (the release KEYTURN_KUBE_VERSION names, default 1.37.2,
# built by tools/kubernetes/build.sh over etcd 3.6 from tools/etcd; or 1.20.2 built by build.sh
# from Debian's source package over Debian's etcd) on loopback only, waits for
# /readyz, and writes a kubeconfig with an admin token. Prints the kubeconfig's path on stdout.
# State (certificates, data, logs, PIDs) lives in $KEYTURN_APISERVER_DIR, or a new private
# directory (mktemp) next to the printed kubeconfig; `stop.sh KUBECONFIG` (or the same
# KEYTURN_APISERVER_DIR) stops exactly the processes this started, so two runs on one machine
# never touch each other's servers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${KEYTURN_APISERVER_DIR:-$(mktemp -d -t keyturn-apiserver.XXXXXX)}
log() { printf '[kube-apiserver] %s\n' "$*" >&2; }

KEYTURN_APISERVER_DIR="${state}" "${here}/stop.sh" >/dev/null 2>&1 || true
# Which release: KEYTURN_KUBE_VERSION (default 1.37.2), a current release built from the Go module
# proxy (tools/kubernetes); 1.20.2 is built from Debian's source package by build.sh.
kube_version=${KEYTURN_KUBE_VERSION:-1.37.2}
if [ "${kube_version}" = 1.20.2 ]; then
  bindir=$("${here}/build.sh")
  # Gone since 1.24: the insecure port; the token-request gate is GA and removed.
  legacy_flags=(--insecure-port 0 --feature-gates CSIServiceAccountToken=true)
  etcd=etcd  # Debian's etcd-server 3.4, which build.sh installs
else
  bindir=$("${here}/../kubernetes/build.sh" "${kube_version}" kube-apiserver)
  legacy_flags=()
  # etcd 3.6, as current releases run it, built from the Go module proxy.
  etcd=$("${here}/../etcd/build.sh")
fi
log "$("${bindir}/kube-apiserver" --version), etcd $("${etcd}" --version | sed -n 's/^etcd Version: //p')"
rm -rf "${state}"
mkdir -p "${state}/pki" "${state}/etcd"
cd "${state}/pki"

# shellcheck source=../processes.sh
. "${here}/../processes.sh"
etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)

# Throwaway certificates: a CA, a serving certificate for 127.0.0.1, a service-account key pair.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=keyturn-test-ca" \
  -keyout ca.key -out ca.crt >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout server.key -out server.csr >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
  -out server.crt >/dev/null 2>&1
openssl genrsa -out sa.key 2048 >/dev/null 2>&1
openssl rsa -in sa.key -pubout -out sa.pub >/dev/null 2>&1
token=$(openssl rand -hex 24)
printf '%s,keyturn-admin,keyturn-admin,"system:masters"\n' "${token}" > tokens.csv
chmod 600 ./*.key tokens.csv

log "starting etcd on 127.0.0.1:${etcd_port}"
"${etcd}" --name keyturn --data-dir "${state}/etcd" \
  --listen-client-urls "http://127.0.0.1:${etcd_port}" --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
  --listen-peer-urls "http://127.0.0.1:${peer_port}" --initial-advertise-peer-urls "http://127.0.0.1:${peer_port}" \
  --initial-cluster "keyturn=http://127.0.0.1:${peer_port}" >"${state}/etcd.log" 2>&1 &
echo $! > "${state}/etcd.pid"

log "starting kube-apiserver on 127.0.0.1:${api_port}"
"${bindir}/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:${etcd_port}" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "${api_port}" "${legacy_flags[@]}" \
  --tls-cert-file server.crt --tls-private-key-file server.key --client-ca-file ca.crt \
  --token-auth-file tokens.csv --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file sa.pub \
  --service-account-signing-key-file sa.key --service-cluster-ip-range 10.0.0.0/24 \
  --allow-privileged=true --endpoint-reconciler-type none --cert-dir "${state}/pki" --profiling=false \
  >"${state}/kube-apiserver.log" 2>&1 &
echo $! > "${state}/kube-apiserver.pid"

for i in $(seq 1 120); do
  if curl -fsS --cacert ca.crt -H "Authorization: Bearer ${token}" "https://127.0.0.1:${api_port}/readyz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$(cat "${state}/kube-apiserver.pid")" 2>/dev/null; then
    log "kube-apiserver exited; its log:"; tail -30 "${state}/kube-apiserver.log" >&2; exit 1
  fi
  [ "$i" -eq 120 ] && { log "not ready after 60 s"; tail -30 "${state}/kube-apiserver.log" >&2; exit 1; }
  sleep 0.5
done
version=$(curl -fsS --cacert ca.crt -H "Authorization: Bearer ${token}" "https://127.0.0.1:${api_port}/version" \
  | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
log "ready: kube-apiserver ${version} at https://127.0.0.1:${api_port}"

cat > "${state}/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: keyturn-test
  cluster:
    server: https://127.0.0.1:${api_port}
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: keyturn-admin
  user:
    token: ${token}
contexts:
- name: keyturn-test
  context:
    cluster: keyturn-test
    user: keyturn-admin
current-context: keyturn-test
KUBECONFIG
chmod 600 "${state}/kubeconfig"
echo "${state}/kubeconfig"
