#!/usr/bin/env bash
# Benchmark: a registry with a pull quota, as Docker Hub meters it, and a
# mirror beside it; archway against crane and regctl.
#
# bench/quota/hub serves one in-process registry three ways: a port to push
# to, a Docker-Hub-like origin (registrytest.Hub: every manifest GET is a
# pull, ratelimit-limit/-remaining headers, 429 TOOMANYREQUESTS past QUOTA
# pulls) and a mirror of the same content. bench/latencyproxy puts DELAY_MS
# each way in front of the origin and of the mirror. N images are pushed
# (bench/check/populate), then, each run with the quota whole again:
#   (a) archway check -f refs            no mirror: time until all N are
#                                        reported, origin pulls (≤ QUOTA)
#   (b) archway check --registry-mirror  N answered, 0 origin pulls
#   (c) the same after the tags expired  (--cache-ttl 0: HEAD, no GET)
#   (c') the same without the mirror
#   crane manifest, regctl manifest get  over xargs -P PEER_JOBS: pulls
#                                        spent, answers obtained
#
# Environment: N (300), QUOTA (100), JOBS (32), PEER_JOBS (8), DELAY_MS (25).
# Needs Go.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

N=${N:-300}
QUOTA=${QUOTA:-100}
JOBS=${JOBS:-32}
PEER_JOBS=${PEER_JOBS:-8}
DELAY_MS=${DELAY_MS:-25}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_setup quota

install_peers

log "building archway, hub, latencyproxy, populate"
go build -o "$work/archway" ./cmd/archway
go build -o "$work/hub" ./bench/quota/hub
go build -o "$work/latencyproxy" ./bench/latencyproxy
go build -o "$work/populate" ./bench/check/populate

# --- the hub (push, origin, mirror) and a latency proxy before each ----------
"$work/hub" -limit "$QUOTA" -window 6h -addr-file "$work/hub.addr" >"$work/hub.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/hub.addr ]] && break; sleep 0.1; done
[[ -s $work/hub.addr ]] || { echo "hub did not start" >&2; exit 1; }
{ read -r push; read -r origin_up; read -r mirror_up; } <"$work/hub.addr"
start_proxy "$origin_up"
origin=$proxy
mv "$work/proxy.addr" "$work/origin.addr"
start_proxy "$mirror_up"
mirror=$proxy
log "push $push, origin $origin (→ $origin_up), mirror $mirror (→ $mirror_up)"

"$work/populate" -registry "$push" -ref-host "$origin" -n "$N" -out "$work/refs.txt"

# --- measurements -------------------------------------------------------------
export DOCKER_CONFIG=$work/docker
mkdir -p "$DOCKER_CONFIG" "$work/regctl-home"
HOME=$work/regctl-home "$bin/regctl" registry set --tls disabled "$origin" >/dev/null
results=$work/results.tsv
: >"$results"
hubstat() { curl -fsS "http://$push/_hub/stats" | awk -F'\t' -v k="$1" '$1 == k {print $2}'; }
# measure label answered-counter command...: the quota is made whole, the
# command runs, its wall time, answers, origin pulls, origin 429s and
# mirror requests are recorded.
measure() {
  local label=$1 answered=$2; shift 2
  curl -fsS -X POST "http://$push/_hub/reset"
  "$work/latencyproxy" stats -reset -addr "$mirror"
  local start end rc=0
  start=$(date +%s%N)
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  end=$(date +%s%N)
  local got mreq
  got=$("$answered" <"$work/out")
  mreq=$("$work/latencyproxy" stats -addr "$mirror" | awk -F'\t' '$1 == "total" {print $2}')
  printf '%s\t%d\t%d\t%d\t%d\t%d\t%d\n' "$label" $(( (end - start) / 1000000 )) "$got" \
    "$(hubstat pulls)" "$(hubstat refused)" "$(hubstat 'manifest HEAD')" "$mreq" >>"$results"
  log "$label: $(( (end - start) / 1000000 )) ms, $got answered, $(hubstat pulls) origin pulls, exit $rc"
}
archway() { XDG_CACHE_HOME=$work/cache-$1 "$work/archway" check -f "$work/refs.txt" -o json --jobs "$JOBS" \
  --docker-daemon-config "" --containerd-hosts-dir "" "${@:2}"; }
archway_answered() { # images with a verdict other than unknown
  grep -c '"verdict": "\(supported\|unsupported\)"' || true
}
peer_answered() { grep -c '^ok$' || true; }
run_crane() { xargs -P "$PEER_JOBS" -I{} sh -c '"$0" manifest "$1" >/dev/null 2>&1 && echo ok || echo fail' "$bin/crane" {} <"$work/refs.txt"; }
run_regctl() { HOME=$work/regctl-home xargs -P "$PEER_JOBS" -I{} sh -c '"$0" manifest get "$1" >/dev/null 2>&1 && echo ok || echo fail' "$bin/regctl" {} <"$work/refs.txt"; }

measure "(a) archway, no mirror" archway_answered archway a
grep -o 'note: .*' "$work/err" >"$work/note" || true
measure "(b) archway --registry-mirror" archway_answered archway b --registry-mirror "$origin=$mirror"
measure "(c) (b) again after tag expiry" archway_answered archway b --registry-mirror "$origin=$mirror" --cache-ttl 0s
measure "(c') (c) without the mirror" archway_answered archway b --cache-ttl 0s
measure "crane manifest (xargs -P $PEER_JOBS)" peer_answered run_crane
measure "regctl manifest get (xargs -P $PEER_JOBS)" peer_answered run_regctl

# --- table --------------------------------------------------------------------
awk -F'\t' -v n="$N" -v quota="$QUOTA" -v rtt=$((2 * DELAY_MS)) -v jobs="$JOBS" '
  BEGIN {
    printf "\nquota benchmark: %d images at a Docker-Hub-like origin (quota %d pulls), mirror beside it, %d ms round trip, archway --jobs %d\n\n", n, quota, rtt, jobs
    printf "%-40s %9s %9s %12s %11s %12s %12s\n", "run", "wall", "answered", "origin pulls", "origin 429s", "origin HEADs", "mirror reqs"
  }
  { printf "%-40s %8.2fs %5d/%-3d %12d %11d %12d %12d\n", $1, $2 / 1000, $3, n, $4, $5, $6, $7
    if (NR == 1) { a_pulls = $4; a_ans = $3 }
    if (NR == 2) { b_ans = $3; b_pulls = $4 }
    if (NR == 3) { c_pulls = $4; c_ans = $3 }
    if (NR == 4) { c2_pulls = $4 }
  }
  END {
    printf "\ntargets: (a) origin pulls ≤ %d: %s; (b) %d answered, 0 origin pulls: %s; (c) 0 pulls after expiry: %s\n",
      quota, (a_pulls <= quota ? "met" : "NOT met"), n, (b_ans == n && b_pulls == 0 ? "met" : "NOT met"),
      (c_pulls == 0 && c2_pulls == 0 && c_ans == n ? "met" : "NOT met")
  }' "$results"
if [[ -s $work/note ]]; then
  printf '\narchway (a) said on stderr (%d note):\n' "$(wc -l <"$work/note")"
  sed 's/^/  /' "$work/note"
fi
