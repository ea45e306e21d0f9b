#!/usr/bin/env bash
# Starts a real node beside the API server that tools/kube-apiserver/start.sh started: containerd
# (Debian's, with runc) with a private root, state and socket, kube-controller-manager,
# kube-scheduler and kubelet of one current release (built by build.sh from the Go module proxy;
# $KEYTURN_NODE_VERSION, default 1.37.2), with the images `keyturn.test/pause:1` and
# `keyturn.test/busybox:1` imported from archives built here (no registry). Waits until the node is
# Ready.
#
# usage: start.sh KUBECONFIG   (the kubeconfig the API server's start.sh printed)
# Prints the node's state directory: its `env` file names the node, kubelet's root directory and
# the tools the tests use; `stop.sh DIR` stops exactly what this started and removes its pods'
# containers and mounts. Everything lives under that directory (a new private one, or
# $KEYTURN_NODE_DIR), so two runs on one machine never touch each other's processes; the cgroups
# are named after the directory too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubeconfig=$(realpath "${1:?give the kubeconfig tools/kube-apiserver/start.sh printed}")
pki=$(dirname "${kubeconfig}")/pki
state=${KEYTURN_NODE_DIR:-$(mktemp -d -t keyturn-node.XXXXXX)}
log() { printf '[kube-node] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "a node needs root (containers, mounts, cgroups)"; exit 1; }
version=${KEYTURN_NODE_VERSION:-1.37.2}
bindir=$("${here}/build.sh" "${version}")
mkdir -p "${state}"/{containerd,cni,kubelet,images,logs}
name=$(basename "${state}")
sock=${state}/containerd.sock

# shellcheck source=../processes.sh
. "${here}/../processes.sh"

# containerd: CRI with runc and cgroupfs. Root lacks CAP_SYS_RESOURCE here, so runc cannot raise
# oom_score_adj and the sandbox fails ("can't get final child's PID from pipe: EOF") unless the CRI
# plugin keeps the score at least at containerd's own (restrict_oom_score_adj).
cat >"${state}/containerd/config.toml" <<TOML
version = 2
root = "${state}/containerd/root"
state = "${state}/containerd/state"
oom_score = 0
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[debug]
  address = "${sock}.debug"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${state}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "keyturn.test/pause:1"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${state}/cni"
TOML
# The pod network: a bridge of this node's own (named after the state directory, removed by
# stop.sh) with addresses from a /24 of 10.251.0.0/16. Pods that are not on the host's network get
# an address there; they reach nothing beyond the node (no routes out, no kube-proxy), which is all
# the tests ask of them. The tests' readers use the host's network.
bridge=ktb-${name: -6}
subnet=10.251.$(( RANDOM % 250 + 1 ))
cat >"${state}/cni/10-keyturn.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "keyturn", "plugins": [
  {"type": "bridge", "bridge": "${bridge}", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "${subnet}.0/24"}]],
            "dataDir": "${state}/cni-ipam"}}]}
JSON
echo "${bridge}" >"${state}/bridge"

log "starting containerd on ${sock}"
containerd --config "${state}/containerd/config.toml" >"${state}/logs/containerd.log" 2>&1 &
echo $! >"${state}/containerd.pid"
for i in $(seq 1 100); do
  ctr --address "${sock}" version >/dev/null 2>&1 && break
  [ "$i" -eq 100 ] && { log "containerd not up after 10 s:"; tail -20 "${state}/logs/containerd.log" >&2; exit 1; }
  sleep 0.1
done

# Images without a registry: pause (static, built from the source tree) and busybox (Debian's
# busybox-static), packed as OCI archives and imported into the CRI namespace.
pack() { # name rootfs-builder
  local root=${state}/images/$1 ; rm -rf "${root}" && mkdir -p "${root}"
  "$2" "${root}"
  python3 "${here}/oci-image.py" "${root}" "keyturn.test/$1:1" "${state}/images/$1.tar" "${@:3}"
  ctr --address "${sock}" -n k8s.io images import "${state}/images/$1.tar" >&2
}
pause_root() { cp -L "${bindir}/pause" "$1/pause"; }
busybox_root() {
  mkdir -p "$1/bin" "$1/tmp" "$1/etc"
  cp /bin/busybox "$1/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do [ "${applet}" = busybox ] || ln -s busybox "$1/bin/${applet}"; done
  printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$1/etc/group"
}
pack pause pause_root --entrypoint /pause
pack busybox busybox_root

log "starting kube-controller-manager"
"${bindir}/kube-controller-manager" --kubeconfig "${kubeconfig}" --leader-elect=false \
  --secure-port 0 --controllers '*' --use-service-account-credentials=false \
  --service-account-private-key-file "${pki}/sa.key" --root-ca-file "${pki}/ca.crt" \
  --node-monitor-grace-period 20s \
  >"${state}/logs/kube-controller-manager.log" 2>&1 &
echo $! >"${state}/kube-controller-manager.pid"

log "starting kube-scheduler"
"${bindir}/kube-scheduler" --kubeconfig "${kubeconfig}" --leader-elect=false --secure-port 0 \
  >"${state}/logs/kube-scheduler.log" 2>&1 &
echo $! >"${state}/kube-scheduler.pid"

# kubelet: the node is named after the host. The host name resolves to loopback, which kubelet
# refuses as the node's address, so the node gets an address of its own on one end of a veth pair
# (named after the state directory, removed by stop.sh): kubelet's probes of host-network pods go
# to it, so the chart's DaemonSet can become Ready.
node=$(hostname | tr '[:upper:]' '[:lower:]')
link=kt-${name: -6}
node_ip=
for i in $(seq 1 20); do
  candidate=10.250.$(( RANDOM % 250 + 1 )).$(( RANDOM % 250 + 1 ))
  ip -br addr | grep -q "${candidate}/" || { node_ip=${candidate}; break; }
done
[ -n "${node_ip}" ] || { log "no free address in 10.250.0.0/16 for the node"; exit 1; }
ip link add "${link}" type veth peer name "${link}p"
ip addr add "${node_ip}/32" dev "${link}"
ip link set "${link}" up
ip link set "${link}p" up
echo "${link}" >"${state}/link"
kubelet_dir=${state}/kubelet
kubelet_port=$(free_port); healthz_port=$(free_port)
# A shared mount of its own, so a driver in a container with Bidirectional propagation (the chart's
# DaemonSet) mounts volumes that kubelet and the pods see.
mount --bind "${kubelet_dir}" "${kubelet_dir}"
mount --make-rshared "${kubelet_dir}"
cat >"${state}/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: ${kubelet_port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${healthz_port}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /${name}
cgroupsPerQOS: true
enforceNodeAllocatable: []
failSwapOn: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"}
registerNode: true
containerRuntimeEndpoint: unix://${sock}
# This machine's cgroups are v1, which kubelet refuses from 1.35 on unless told to carry on.
failCgroupV1: false
# kubelet republishes (requiresRepublish) at each pod sync: every syncFrequency plus jitter. 15s
# instead of 1m keeps the phase short; the path through kubelet is the same.
syncFrequency: 15s
YAML
# The cgroup root must exist in every hierarchy.
for hierarchy in /sys/fs/cgroup/*/; do
  [ -d "${hierarchy}" ] && mkdir -p "${hierarchy}${name}" 2>/dev/null || true
done
cat >"${state}/kubelet.sh" <<SH
#!/usr/bin/env bash
# Starts (or restarts) this node's kubelet.
exec "${bindir}/kubelet" --config "${state}/kubelet-config.yaml" --kubeconfig "${kubeconfig}" \\
  --root-dir "${kubelet_dir}" --cert-dir "${state}/kubelet-pki" --node-ip "${node_ip}" \\
  -v 2 >>"${state}/logs/kubelet.log" 2>&1
SH
chmod +x "${state}/kubelet.sh"
log "starting kubelet for node ${node} in ${kubelet_dir}"
"${state}/kubelet.sh" &
echo $! >"${state}/kubelet.pid"

cat >"${state}/env" <<ENV
NODE_NAME=${node}
NODE_IP=${node_ip}
KUBELET_DIR=${kubelet_dir}
KUBELET_START=${state}/kubelet.sh
KUBELET_PID_FILE=${state}/kubelet.pid
KUBELET_VERSION=${version}
CONTAINERD_SOCKET=${sock}
LOGS=${state}/logs
ENV

api=$(sed -n 's/^ *server: //p' "${kubeconfig}")
token=$(sed -n 's/^ *token: //p' "${kubeconfig}")
for i in $(seq 1 120); do
  if curl -fsS --cacert "${pki}/ca.crt" -H "Authorization: Bearer ${token}" "${api}/api/v1/nodes/${node}" 2>/dev/null \
      | python3 -c 'import json,sys; n=json.load(sys.stdin); sys.exit(0 if any(c["type"]=="Ready" and c["status"]=="True" for c in n["status"].get("conditions",[])) else 1)' 2>/dev/null; then
    break
  fi
  if ! kill -0 "$(cat "${state}/kubelet.pid")" 2>/dev/null; then
    log "kubelet exited; its log:"; tail -30 "${state}/logs/kubelet.log" >&2; exit 1
  fi
  [ "$i" -eq 120 ] && { log "node ${node} not Ready after 60 s; kubelet's log:"; tail -30 "${state}/logs/kubelet.log" >&2; exit 1; }
  sleep 0.5
done
log "node ${node} (${node_ip}) Ready: $("${bindir}/kubelet" --version), $(containerd --version | cut -d' ' -f2-3), $(runc --version | head -1)"
echo "${state}"
