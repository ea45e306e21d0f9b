#!/usr/bin/env bash
# Builds crane (go-containerregistry) of one release from the Go module proxy, by package name:
# tools/crane/v<VERSION>/go.mod names it as a tool and its go.sum pins every module. Cached under
# ~/.cache/keyturn.
#
# Usage: tools/crane/build.sh [VERSION]   (default 0.22.1). Prints the binary's path.
set -euo pipefail
version=${1:-0.22.1}
log() { printf '[crane %s build] %s\n' "${version}" "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
go_tool_binary crane "${version}" github.com/google/go-containerregistry/cmd/crane
