#!/usr/bin/env bash
# Writes the class list that `keyturn cds-archive` builds in
# (distribution/src/main/resources/dev/keyturn/launcher/node.classlist): the classes the assembled
# `keyturn node` loads serving 110 volumes of the file provider, on the image's runtime, once
# against the in-process API mock (plain HTTP) and once against the real kube-apiserver over TLS
# with a token (as in a cluster; tools/kube-apiserver builds and starts it), merged.
# Run it when a change makes the node load other classes (a dependency update, new code paths);
# CdsArchiveIT fails when the archive no longer covers what a node loads. Then rebuild.
# Build first: mvn -B -q install -DskipTests && mvn -B -q package -pl distribution
set -euo pipefail
cd "$(dirname "$0")"
cp="target/classes:$(cat target/classpath.txt)"
runtime=../distribution/target/image-root/opt/java/bin/java
node_java=java; [ -x "$runtime" ] && node_java=$runtime
target=../distribution/src/main/resources/dev/keyturn/launcher/node.classlist
dir=$(mktemp -d /tmp/keyturn-classlist.XXXXXX)
apiserver=false
cleanup() { $apiserver && [ -n "${kubeconfig:-}" ] && ../tools/kube-apiserver/stop.sh "$kubeconfig"; rm -rf "$dir"; }
trap cleanup EXIT
list() { # kubeconfig (empty: the mock), output: the JVM's own list of the classes it loaded
  KEYTURN_IT_KUBECONFIG=$1 JAVA=$node_java MALLOC_ARENA_MAX=2 KEYTURN_JAVA_OPTS="-XX:MaxRAM=200m" java \
    -Dkeyturn.classlist="$2" -Dkeyturn.crds.dir=../distribution/src/main/helm/keyturn/crds \
    -cp "$cp" dev.keyturn.benchmarks.NodeFootprint ../distribution/target/keyturn "$dir/work" 110 1 >/dev/null 2>&1
}
list "" "$dir/mock.classlist"
kubeconfig=$(../tools/kube-apiserver/start.sh)
apiserver=true
list "$kubeconfig" "$dir/real.classlist"
{
  echo "# The classes \`keyturn node\` loaded serving 110 volumes of the file provider, against an API server"
  echo "# over plain HTTP and against kube-apiserver over TLS, as -XX:DumpLoadedClassList writes them, merged"
  echo "# and sorted. Read by \`keyturn cds-archive\`; written by benchmarks/update-class-list.sh."
  echo "# Lines starting with @ are the JDK's lambda and method-handle forms."
  # Without the classes of proxies made at run time: the dump cannot find them.
  cat "$dir/mock.classlist" "$dir/real.classlist" | grep -v -e '^#' -e '^@' -e '^$' | grep -v -E '\$Proxy[0-9]+$' \
    | LC_ALL=C sort -u
  cat "$dir/mock.classlist" "$dir/real.classlist" | grep '^@' | LC_ALL=C sort -u
} > "$target"
echo "class list: $(grep -c -v -e '^#' -e '^@' "$target") classes and $(grep -c '^@' "$target") lambda forms in $target"
