#!/usr/bin/env bash
# The second test phase: the Kubernetes-facing tests (tag "kubernetes") against a real
# kube-apiserver of the release given as $1 (default 1.37.2; 1.35.4 too: built from the Go module
# proxy, tools/kubernetes; 1.20.2 from Debian's source package, by hand only). Fails if the server
# cannot be built or started; it never falls back to the mock.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KEYTURN_KUBE_VERSION=${1:-${KEYTURN_KUBE_VERSION:-1.37.2}}
tools/kube-apiserver/with-server.sh \
  mvn -B verify -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dgroups=kubernetes \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
