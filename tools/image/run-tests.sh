#!/usr/bin/env bash
# The image phase: builds the image for amd64 and arm64, pushes both as one multi-architecture
# index to a throwaway registry (crane's, in memory), reads the index back, and runs ImageIT
# against the arm64 image under qemu-user: Debian's qemu-user-static, registered with the kernel's
# binfmt_misc (with the F flag, so that it also serves inside the chroot and for the processes the
# JVM spawns; root). The amd64 image runs in `mvn verify` itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/processes.sh
log() { printf '[image] %s\n' "$*" >&2; }
install_debian_packages qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support
[ -f /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 2>/dev/null || true
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || { log "qemu-aarch64 is not registered with binfmt_misc"; exit 1; }
crane=$(tools/crane/build.sh)
port=$(free_port)
work=$(mktemp -d /tmp/keyturn-image-phase.XXXXXX)
"${crane}" registry serve --address "127.0.0.1:${port}" > "${work}/registry.log" 2>&1 &
registry=$!
trap 'kill "${registry}" 2>/dev/null || true; rm -rf "${work}"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break; sleep 0.1; done
image=127.0.0.1:${port}/keyturn:0.1.0
tools/image/build.sh --arch all --push "${image}" >/dev/null
# The index names one image per platform, and each is the archive's image.
platforms=$("${crane}" manifest "${image}" | python3 -c '
import json, sys
index = json.load(sys.stdin)
print(" ".join(sorted(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in index["manifests"])))')
[ "${platforms}" = "linux/amd64 linux/arm64" ] || { log "the pushed index lists [${platforms}], not linux/amd64 and linux/arm64"; exit 1; }
for a in amd64 arm64; do
  config=$("${crane}" config --platform "linux/${a}" "${image}" | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["architecture"], c["config"]["Labels"]["org.opencontainers.image.version"])')
  [ "${config}" = "${a} 0.1.0" ] || { log "linux/${a} in the index has config [${config}]"; exit 1; }
done
log "pushed ${image}: an index of linux/amd64 and linux/arm64"
own=$(dpkg --print-architecture)
[ "${own}" = amd64 ] || { log "this phase emulates arm64 on amd64; this machine is ${own}"; exit 1; }
log "ImageIT on the arm64 image, under $(qemu-aarch64-static --version | head -n 1)"
mvn -B -q verify -pl distribution -Dmaven.javadoc.skip=true -Dmaven.source.skip=true \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ImageIT -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dkeyturn.image.skip=true -Dkeyturn.image.arch=arm64 \
  -Dkeyturn.image.tar="${PWD}/distribution/target/keyturn-image-arm64.tar"
