#!/usr/bin/env bash
# Builds what a real node of one current Kubernetes release needs and prints the directory that
# holds it: kubelet, kube-controller-manager (Deployments, ReplicaSets, garbage collection) and
# kube-scheduler (DaemonSet pods are scheduled), from the Go module proxy by package name through
# tools/kubernetes/build.sh (pinned by tools/kubernetes/v<VERSION>/go.mod and go.sum, cached by
# version), and the pod sandbox's `pause` from our own pause.c. Installs containerd, runc, the CNI
# plugins and busybox-static from Debian's packages (root, for apt-get; CI runs as root).
#
# usage: build.sh [VERSION]   (default: $KEYTURN_NODE_VERSION, else 1.37.2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-${KEYTURN_NODE_VERSION:-1.37.2}}
log() { printf '[kube-node build] %s\n' "$*" >&2; }

# shellcheck source=../processes.sh
. "${here}/../processes.sh"
install_debian_packages containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
  /bin/busybox:busybox-static gcc:gcc openssl:openssl curl:curl ip:iproute2

bindir=$("${here}/../kubernetes/build.sh" "${version}" kubelet kube-controller-manager kube-scheduler)
# pause is tiny: rebuilt whenever its source changes, beside the release's binaries.
pause=${bindir}/pause-$(sha256sum "${here}/pause.c" | cut -c1-12)
if [ ! -x "${pause}" ]; then
  gcc -Os -static -Wall -Wextra -o "${pause}.tmp" "${here}/pause.c" >&2
  strip "${pause}.tmp"
  mv "${pause}.tmp" "${pause}"
fi
ln -sf "$(basename "${pause}")" "${bindir}/pause"
echo "${bindir}"
