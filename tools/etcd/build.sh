#!/usr/bin/env bash
# Builds etcd of one release from the Go module proxy, by package name: tools/etcd/v<VERSION>/go.mod
# requires go.etcd.io/etcd/server/v3 v<VERSION> (whose root package is the etcd command) and its
# go.sum pins every module. Nothing fetched is kept in the repository: the binary lives under
# ~/.cache/keyturn, keyed by version and by the go.mod/go.sum checksum.
#
# Usage: tools/etcd/build.sh [VERSION]   (default 3.6.16). Prints the binary's path.
set -euo pipefail
version=${1:-3.6.16}
log() { printf '[etcd %s build] %s\n' "${version}" "$*" >&2; }
# shellcheck source=../processes.sh
. "$(dirname "$0")/../processes.sh"
go_tool_binary etcd "${version}" go.etcd.io/etcd/server/v3
