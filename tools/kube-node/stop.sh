#!/usr/bin/env bash
# Stops the node start.sh started in DIR (its printed state directory): kubelet, the pods'
# containers and their shims, containerd, kube-controller-manager; then unmounts what is still
# mounted under DIR (container root file systems, volumes) and removes the node's cgroups.
# Leaves DIR itself (logs) for the caller.
set -u
state=${1:?give the directory start.sh printed}
state=$(realpath "${state}")
name=$(basename "${state}")
log() { printf '[kube-node] %s\n' "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
stop_pid() { stop_pid_file "${state}/$1.pid"; }
stop_pid kubelet
# Every container's processes, by the cgroups kubelet made under the node's cgroup root.
for procs in $(find /sys/fs/cgroup/*/"${name}" -name cgroup.procs 2>/dev/null); do
  # A cgroup may go between find and read: its processes are gone then too.
  { xargs -r kill -9 <"${procs}"; } 2>/dev/null || true
done
# The shims of this containerd (their command line names its socket).
pgrep -f "containerd-shim.*-address ${state}/containerd.sock" | xargs -r kill -9 2>/dev/null || true
stop_pid containerd
stop_pid kube-controller-manager
stop_pid kube-scheduler
awk -v root="${state}/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
  umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || true
done
# The node's address: deleting one end of the veth pair deletes both.
[ -f "${state}/link" ] && ip link del "$(cat "${state}/link")" 2>/dev/null || true
# The pod network's bridge (the pods' veths went with their network namespaces).
[ -f "${state}/bridge" ] && ip link del "$(cat "${state}/bridge")" 2>/dev/null || true
for hierarchy in /sys/fs/cgroup/*/; do
  [ -d "${hierarchy}${name}" ] && find "${hierarchy}${name}" -depth -type d -exec rmdir {} + 2>/dev/null || true
done
exit 0
