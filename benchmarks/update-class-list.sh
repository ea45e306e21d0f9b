#!/usr/bin/env bash
# Writes the class list that `keyturn cds-archive` builds in
# (distribution/src/main/resources/dev/keyturn/launcher/node.classlist): the classes the assembled
# `keyturn node` loads serving 110 volumes of the file provider, run on the image's runtime.
# Run it when a change makes the node load other classes (a dependency update, new code paths);
# CdsArchiveIT fails when the archive no longer covers what a node loads. Then rebuild.
# Build first: mvn -B -q install -DskipTests && mvn -B -q package -pl distribution
set -euo pipefail
cd "$(dirname "$0")"
cp="target/classes:$(cat target/classpath.txt)"
runtime=../distribution/target/image-root/opt/java/bin/java
node_java=java; [ -x "$runtime" ] && node_java=$runtime
dir=$(mktemp -d /tmp/keyturn-classlist.XXXXXX)
trap 'rm -rf "$dir"' EXIT
JAVA=$node_java MALLOC_ARENA_MAX=2 KEYTURN_JAVA_OPTS="-XX:MaxRAM=200m" java \
  -Dkeyturn.classlist=../distribution/src/main/resources/dev/keyturn/launcher/node.classlist \
  -Dkeyturn.crds.dir=../distribution/src/main/helm/keyturn/crds \
  -cp "$cp" dev.keyturn.benchmarks.NodeFootprint ../distribution/target/keyturn "$dir" 110 1 2>/dev/null | grep -E '^class list'
