#!/usr/bin/env bash
# Benchmark: `archway check` against crane and regctl over a simulated
# wide-area link.
#
# It starts Debian's docker-registry on loopback, pushes N small images to it
# (bench/check/populate: OCI indexes with and without buildx attestations,
# Docker manifest lists, single-platform OCI and Docker manifests), puts
# bench/latencyproxy in front (DELAY_MS each way, so every request costs one
# round trip of 2×DELAY_MS), and then asks every tool about every image the
# way a user would:
#   archway check -f refs --no-cache -o json --jobs JOBS
#   xargs -P PEER_JOBS crane manifest REF
#   xargs -P PEER_JOBS regctl manifest get REF
# The proxy counts the requests. The floor is the least time archway's own
# requests can take: requests × RTT / JOBS.
#
# Environment: N (1000), JOBS (32), PEER_JOBS (8), DELAY_MS (25).
# Needs Go and docker-registry (installed with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

N=${N:-1000}
JOBS=${JOBS:-32}
PEER_JOBS=${PEER_JOBS:-8}
DELAY_MS=${DELAY_MS:-25}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_setup check

install_peers

# --- archway and the helpers ----------------------------------------------
log "building archway, latencyproxy, populate"
go build -o "$work/archway" ./cmd/archway
go build -o "$work/latencyproxy" ./bench/latencyproxy
go build -o "$work/populate" ./bench/check/populate

# --- docker-registry and the latency proxy on loopback --------------------
start_registry
start_proxy "$reg"

# --- images -----------------------------------------------------------------
push_images "$N"

# --- measurements -------------------------------------------------------------
export DOCKER_CONFIG=$work/docker XDG_CACHE_HOME=$work/cache
mkdir -p "$DOCKER_CONFIG"
results=$work/results.tsv
: >"$results"
measure() { # role label command...   role: archway (the measured run), extra or peer
  local role=$1 label=$2; shift 2
  "$work/latencyproxy" stats -reset -addr "$proxy"
  local start end rc=0
  start=$(date +%s%N)
  "$@" || rc=$?
  end=$(date +%s%N)
  local reqs
  reqs=$("$work/latencyproxy" stats -addr "$proxy" | awk -F'\t' '$1 == "total" {print $2}')
  printf '%s\t%s\t%d\t%d\t%d\n' "$role" "$label" $(( (end - start) / 1000000 )) "$reqs" "$rc" >>"$results"
  log "$label: $(( (end - start) / 1000000 )) ms, $reqs requests, exit $rc"
}
run_archway() { "$work/archway" check -f "$work/refs.txt" "$@" -o json --jobs "$JOBS" --jobs-per-registry "$JOBS" >"$work/archway.json"; }
run_crane() { xargs -P "$PEER_JOBS" -n 1 "$bin/crane" manifest <"$work/refs.txt" >/dev/null; }
run_regctl() { HOME=$work/regctl-home xargs -P "$PEER_JOBS" -n 1 "$bin/regctl" manifest get <"$work/refs.txt" >/dev/null; }

mkdir -p "$work/regctl-home"
HOME=$work/regctl-home "$bin/regctl" registry set --tls disabled "$proxy" >/dev/null

measure archway "archway check --no-cache" run_archway --no-cache
unknown=$(grep -A4 '"summary"' "$work/archway.json" | awk -F': *' '/"unknown"/ {print $2+0}')
if [[ $unknown != 0 ]]; then
  echo "bench/check: archway could not tell $unknown images:" >&2
  grep '"error": "[^"]' "$work/archway.json" | head -5 >&2
  exit 1
fi
# The same run without the added latency: what the registry and archway
# themselves take, which the floor leaves out.
"$work/latencyproxy" stats -set-delay 0s -addr "$proxy"
measure extra "archway check --no-cache, 0 ms delay" run_archway --no-cache
"$work/latencyproxy" stats -set-delay "${DELAY_MS}ms" -addr "$proxy"
run_archway >/dev/null || true # fill the cache
measure extra "archway check, warm cache" run_archway
measure peer "crane manifest (xargs -P $PEER_JOBS)" run_crane
measure peer "regctl manifest get (xargs -P $PEER_JOBS)" run_regctl

# --- table --------------------------------------------------------------------
awk -F'\t' -v n="$N" -v jobs="$JOBS" -v rtt=$((2 * DELAY_MS)) -v pj="$PEER_JOBS" '
  { role[NR] = $1; label[NR] = $2; ms[NR] = $3; req[NR] = $4; if ($1 == "archway") a = NR }
  END {
    floor = req[a] * rtt / jobs
    printf "\narchway check benchmark: %d images, %d ms round trip (latency proxy), archway --jobs %d, peers xargs -P %d\n\n", n, rtt, jobs, pj
    printf "%-42s %10s %9s %9s %9s %12s\n", "tool", "wall", "requests", "req/img", "÷ floor", "÷ archway"
    printf "%-42s %9.2fs %9d %9.2f %9.2f %12s\n", "floor (archway requests × RTT / jobs)", floor / 1000, req[a], req[a] / n, 1, "-"
    best = 0
    for (i = 1; i <= NR; i++) {
      printf "%-42s %9.2fs %9d %9.2f %9.2f %11.1f×\n", label[i], ms[i] / 1000, req[i], req[i] / n, (floor > 0 ? ms[i] / floor : 0), ms[i] / ms[a]
      if (role[i] == "peer" && (best == 0 || ms[i] < best)) best = ms[i]
    }
    printf "\ntargets: archway within 1.25× of the floor: %s (%.2f×); ≥50× faster than the fastest peer: %s (%.1f×)\n",
      (ms[a] <= 1.25 * floor ? "met" : "NOT met"), (floor > 0 ? ms[a] / floor : 0), (best >= 50 * ms[a] ? "met" : "NOT met"), best / ms[a]
  }' "$results"
