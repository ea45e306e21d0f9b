#!/usr/bin/env bash
# Builds the upstream GCP provider (GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp) of
# one release from the Go module proxy, by package name: tools/provider-gcp/v<VERSION>/go.mod names
# it as a tool and its go.sum pins every module. Cached under ~/.cache/keyturn; never committed.
#
# Usage: tools/provider-gcp/build.sh [VERSION]   (default 1.15.0). Prints the binary's path.
set -euo pipefail
version=${1:-1.15.0}
log() { printf '[provider-gcp %s build] %s\n' "${version}" "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
go_tool_binary provider-gcp "${version}" github.com/GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp
