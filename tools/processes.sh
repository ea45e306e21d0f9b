# Shared by the scripts under tools/ (sourced, not run). Callers define log().
tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Installs the Debian packages that are missing. $@: "command:package" or "/path:package" pairs,
# each package installed when its command is not on PATH or its path does not exist (root, for
# apt-get; CI runs as root).
install_debian_packages() {
  local need=() pair probe pkg
  for pair in "$@"; do
    probe=${pair%%:*} pkg=${pair#*:}
    case "${probe}" in
      /*) [ -e "${probe}" ] || need+=("${pkg}") ;;
      *) command -v "${probe}" >/dev/null || need+=("${pkg}") ;;
    esac
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
  fi
}

# A free TCP port on loopback, picked at random so two runs on one machine do not collide.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then echo "${port}"; return; fi
  done
  log "no free port found"; exit 1
}

# Stops the process whose PID start.sh recorded in $1 (SIGTERM, then SIGKILL after 5 s) and
# removes the file; nothing when there is no such file.
stop_pid_file() {
  local pidfile=$1 pid
  [ -f "${pidfile}" ] || return 0
  pid=$(cat "${pidfile}")
  if kill -0 "${pid}" 2>/dev/null; then
    kill "${pid}"
    for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  rm -f "${pidfile}"
}

# Builds the command PACKAGE of a Go module that tools/NAME/v<VERSION>/go.mod pins (its go.sum
# holds every module), from the Go module proxy by package name, once: the binary is cached under
# ~/.cache/keyturn, keyed by version and by the go.mod/go.sum checksum. Prints the binary's path.
#   go_tool_binary NAME VERSION PACKAGE
go_tool_binary() {
  local name=$1 version=$2 package=$3
  local module=${tools_dir}/${name}/v${version}
  [ -f "${module}/go.mod" ] || { log "no ${module}/go.mod: versions here: $(ls "${tools_dir}/${name}" | grep '^v' | tr '\n' ' ')"; exit 2; }
  command -v go >/dev/null || { log "needs Go 1.26+"; exit 1; }
  local key out
  key=$(cat "${module}/go.mod" "${module}/go.sum" | sha256sum | cut -c1-12)
  out=${KEYTURN_CACHE:-${HOME}/.cache/keyturn}/${name}-v${version}-${key}
  if [ ! -x "${out}/${name}" ]; then
    log "building ${name} ${version} from the Go module proxy"
    mkdir -p "${out}"
    (cd "${module}" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" \
        -o "${out}/${name}.tmp" "${package}")
    mv "${out}/${name}.tmp" "${out}/${name}"
  fi
  echo "${out}/${name}"
}
