#!/usr/bin/env bash
# Builds the upstream Azure provider (Azure/secrets-store-csi-driver-provider-azure) of one release
# from the Go module proxy, by package name: tools/provider-azure/v<VERSION>/go.mod names it as a
# tool and its go.sum pins every module. Cached under ~/.cache/keyturn; never committed.
#
# Usage: tools/provider-azure/build.sh [VERSION]   (default 1.8.2). Prints the binary's path.
set -euo pipefail
version=${1:-1.8.2}
log() { printf '[provider-azure %s build] %s\n' "${version}" "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
go_tool_binary provider-azure "${version}" github.com/Azure/secrets-store-csi-driver-provider-azure/cmd
