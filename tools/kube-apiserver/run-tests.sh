#!/usr/bin/env bash
# The second test phase: the Kubernetes-facing tests (tag "kubernetes") against a real
# kube-apiserver: v1.20.2 built from Debian's source package by default, or the release given as
# $1 (1.37.2, 1.35.4: built from the Go module proxy, tools/kubernetes). Fails if the server cannot
# be built or started; it never falls back to the mock.
set -euo pipefail
cd "$(dirname "$0")/../.."
export KEYTURN_KUBE_VERSION=${1:-${KEYTURN_KUBE_VERSION:-1.20.2}}
tools/kube-apiserver/with-server.sh \
  mvn -B verify -Dgroups=kubernetes -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
