#!/usr/bin/env bash
# Runs Keyturn's benchmarks and prints their figures. Usage:
#   benchmarks/run.sh          full runs (a few minutes)
#   benchmarks/run.sh --smoke  one short iteration of each, to prove they still run (CI)
# Build first: mvn -B -q install -DskipTests
set -euo pipefail
cd "$(dirname "$0")"
smoke=false; [ "${1:-}" = "--smoke" ] && smoke=true
cp="target/classes:$(cat target/classpath.txt)"
java=${JAVA:-java}

if $smoke; then
  jmh_args=(-wi 1 -w 1s -i 1 -r 1s -f 1)
else
  jmh_args=(-wi 3 -w 3s -i 5 -r 5s -f 2)
fi
echo "== writer throughput (JMH, tmpfs when root, 10 files x 4 KiB)"
"$java" -cp "$cp" org.openjdk.jmh.Main "${jmh_args[@]}" -rf text -rff target/jmh-writer.txt WriterBenchmark
cat target/jmh-writer.txt

echo "== NodePublishVolume latency over the Unix socket (file provider, 10 objects)"
pubdir=$(mktemp -d /tmp/keyturn-bench-publish.XXXXXX)
if $smoke; then "$java" -cp "$cp" dev.keyturn.benchmarks.PublishLatency "$pubdir" 10 5
else "$java" -cp "$cp" dev.keyturn.benchmarks.PublishLatency "$pubdir" 110 20; fi
rm -rf "$pubdir"

echo "== rotation: a cycle of 110 volumes x 10 objects, and propagation latency"
rotdir=$(mktemp -d /tmp/keyturn-bench-rotation.XXXXXX)
if $smoke; then "$java" -cp "$cp" dev.keyturn.benchmarks.RotationBench "$rotdir" 3
else "$java" -cp "$cp" dev.keyturn.benchmarks.RotationBench "$rotdir" 30; fi
rm -rf "$rotdir"

echo "== keyturn node as a process: start to serving CSI, resident memory idle and with 110 volumes"
# The JVM options a 200Mi container limit implies (MaxRAM), as in the reference DaemonSet.
home=../distribution/target/keyturn
runtime=../distribution/target/image-root/opt/java/bin/java
fpdir=$(mktemp -d /tmp/keyturn-bench-footprint.XXXXXX)
fp_java=java; [ -x "$runtime" ] && fp_java=$runtime
if $smoke; then n_vol=10; n_start=1; else n_vol=110; n_start=5; fi
JAVA=$fp_java MALLOC_ARENA_MAX=2 KEYTURN_JAVA_OPTS="-XX:MaxRAM=200m" "$java" -Dkeyturn.crds.dir=../distribution/src/main/helm/keyturn/crds \
  -cp "$cp" dev.keyturn.benchmarks.NodeFootprint "$home" "$fpdir" "$n_vol" "$n_start" 2>/dev/null | grep -E '^(RSS|start)'
echo "(runtime: $fp_java)"
rm -rf "$fpdir"

echo "== system calls per operation (strace -f -c, N=2000 minus N=0)"
if ! command -v strace >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq strace >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq strace >/dev/null; } \
      || { echo "strace could not be installed: skipping the system call count"; exit 0; }
  else
    echo "strace is not installed and this is not root: skipping the system call count"; exit 0
  fi
fi
dir=/tmp/keyturn-bench-syscalls
mkdir -p "$dir"
mounted=false
if [ "$(id -u)" = 0 ] && ! mountpoint -q "$dir"; then mount -t tmpfs -o size=64m tmpfs "$dir"; mounted=true; fi
count() { # n mode -> total syscalls
  strace -f -c -o "target/strace-$2-$1.txt" "$java" -XX:+UseSerialGC -Xshare:auto -cp "$cp" \
    dev.keyturn.benchmarks.SwapLoop "$dir" "$1" "$2" >/dev/null
  awk '/^[ -]+$/{next} /total$/{print $4}' "target/strace-$2-$1.txt"
}
n=2000; $smoke && n=200
for mode in changed unchanged; do
  base=$(count 0 "$mode"); full=$(count "$n" "$mode")
  echo "$mode: $(( (full - base) / n )) system calls per operation (N=$n: $full, N=0: $base)"
done
$mounted && umount "$dir"
