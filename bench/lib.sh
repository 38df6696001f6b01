# Shell helpers shared by the benchmarks under bench/. Source it, then call
# bench_setup NAME first.
#
#   bench_setup NAME      a temporary $work, a $pids list killed (and $work
#                         removed) on exit, log and ms_since
#   push_images N         bench/check/populate (built to $work/populate) pushes
#                         N images to $reg, references via $proxy → $work/refs.txt
#   start_registry        Debian docker-registry on a free loopback port → $reg
#   start_proxy UPSTREAM  bench/latencyproxy in front of UPSTREAM (host:port),
#                         DELAY_MS each way, built to $work/latencyproxy → $proxy
#   install_peers         crane and regctl at pinned versions, installed once
#                         into bench/check/.bin → $bin

bench_setup() {
  bench_name=$1
  work=$(mktemp -d "${TMPDIR:-/tmp}/archway-bench-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

log() { echo "bench/$bench_name: $*" >&2; }

# ms_since prints the milliseconds since $1 (a `date +%s%N` reading).
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

push_images() {
  log "pushing $1 images to docker-registry at $reg"
  local t0
  t0=$(date +%s%N)
  "$work/populate" -registry "$reg" -ref-host "$proxy" -n "$1" -out "$work/refs.txt" ||
    { tail -20 "$work/registry.log" >&2; return 1; }
  log "pushed in $(ms_since "$t0") ms"
}

# free_port prints a loopback TCP port nobody listens on.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# start_registry installs docker-registry when missing (as root), starts it
# with filesystem storage under $work and sets reg=127.0.0.1:PORT.
start_registry() {
  if ! command -v docker-registry >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then echo "docker-registry is missing: apt-get install docker-registry" >&2; return 1; fi
    log "apt-get install docker-registry"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
  fi
  reg=127.0.0.1:$(free_port)
  cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $reg
  secret: archway-bench
YAML
  OTEL_TRACES_EXPORTER=none docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  pids+=($!)
}

# start_proxy starts the latency proxy in front of $1 and sets proxy=ADDR.
start_proxy() {
  "$work/latencyproxy" serve -upstream "http://$1" -delay "${DELAY_MS}ms" -addr-file "$work/proxy.addr" >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do [[ -s $work/proxy.addr ]] && break; sleep 0.1; done
  [[ -s $work/proxy.addr ]] || { echo "latencyproxy did not start" >&2; return 1; }
  proxy=$(cat "$work/proxy.addr")
}

# The peer tools the benchmarks compare with, at pinned versions.
CRANE_VERSION=v0.22.1
REGCTL_VERSION=v0.11.7

# install_peer NAME PACKAGE VERSION installs PACKAGE@VERSION into $bin
# unless the binary there is that version already.
install_peer() {
  local have=""
  [[ -x $bin/$1 ]] && have=$(go version -m "$bin/$1" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')
  if [[ $have != "$3" ]]; then
    log "go install $2@$3"
    GOBIN=$bin GOFLAGS= go install "$2@$3"
  fi
}

install_peers() {
  bin=$root/bench/check/.bin
  mkdir -p "$bin"
  install_peer crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
  install_peer regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION"
}
