#!/usr/bin/env bash
# The CSI conformance suite against the assembled driver: csi-sanity (kubernetes-csi/csi-test),
# installed by module name and pinned version with `go install`, cached under
# ~/.cache/keyturn/csi-sanity-<version>/, runs its "Node Service" suite against `keyturn node`
# started as a process on a private socket. Needs Go (1.22+) and a built distribution
# (mvn install -DskipTests, or mvn verify, first).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=v5.3.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/keyturn/csi-sanity-${version}"
sanity="${cache}/csi-sanity"
if [ ! -x "${sanity}" ]; then
  echo "[csi-sanity] installing github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@${version}"
  mkdir -p "${cache}"
  GOBIN="${cache}" go install "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@${version}"
fi
keyturn=distribution/target/keyturn/bin/keyturn
[ -x "${keyturn}" ] || { echo "[csi-sanity] ${keyturn} is missing: build the distribution first" >&2; exit 1; }

work=$(mktemp -d)
node_pid=
cleanup() {
  if [ -n "${node_pid}" ]; then kill "${node_pid}" 2>/dev/null || true; wait "${node_pid}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT
# The Go driver's own command line (no subcommand); no API server is needed for these tests.
"${keyturn}" --endpoint="unix://${work}/csi.sock" --nodeid=sanity-node --metrics-addr= --admin-addr= \
  --provider-volume="${work}/providers" --additional-provider-volume-paths= \
  --kubelet-dir="${work}/kubelet" --kubeconfig="${work}/absent-kubeconfig" >"${work}/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 100); do
  [ -S "${work}/csi.sock" ] && break
  kill -0 "${node_pid}" 2>/dev/null || { cat "${work}/node.log" >&2; echo "[csi-sanity] keyturn node exited" >&2; exit 1; }
  sleep 0.1
done
[ -S "${work}/csi.sock" ] || { cat "${work}/node.log" >&2; echo "[csi-sanity] no CSI socket after 10 s" >&2; exit 1; }

skip='should remove target path'
echo "[csi-sanity] ${version}, Node Service suite; skipped: '${skip}' (it creates its volume with" \
  "Controller.CreateVolume, which a driver of ephemeral inline volumes does not have; the Go driver neither)"
status=0
"${sanity}" --csi.endpoint="unix://${work}/csi.sock" --csi.mountdir="${work}/mount" \
  --csi.stagingdir="${work}/staging" "-ginkgo.focus=Node Service" "-ginkgo.skip=${skip}" -ginkgo.no-color \
  >"${work}/sanity.log" 2>&1 || status=$?
grep -E '^(Ran |FAIL|SUCCESS|PASS|ok )|Passed \|' "${work}/sanity.log" || true
if [ "${status}" -ne 0 ]; then
  cat "${work}/sanity.log" >&2
  echo "[csi-sanity] node log:" >&2
  cat "${work}/node.log" >&2
fi
exit "${status}"
