#!/usr/bin/env bash
# Benchmark: `archway advise` against finding the first arm64 tag with the
# peer tools, over a simulated wide-area link.
#
# It starts Debian's docker-registry on loopback, pushes a series of N tags
# (bench/advise/series: amd64-only below tag FROM, amd64+arm64 indexes from
# it on, every image distinct), puts bench/latencyproxy in front (DELAY_MS
# each way) and asks, from the tag 1.START.0, which tag is the first with
# linux/arm64:
#   archway advise --no-cache -o json REPO:1.START.0
#   crane ls REPO, then crane manifest on each newer tag, oldest first,
#     until one lists linux/arm64 (what a script does without archway)
#   regctl tag ls REPO, then regctl manifest get on each the same way
# The proxy counts the requests. Targets: archway's manifest lookups stay
# within ⌈log₂ n⌉+3 for the n candidates, and archway is faster than the
# fastest peer script.
#
# Environment: N (200), FROM (150), START (3), DELAY_MS (25).
# Needs Go and docker-registry (installed with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

N=${N:-200}
FROM=${FROM:-150}
START=${START:-3}
DELAY_MS=${DELAY_MS:-25}
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_setup advise

install_peers

log "building archway, latencyproxy, series"
go build -o "$work/archway" ./cmd/archway
go build -o "$work/latencyproxy" ./bench/latencyproxy
go build -o "$work/series" ./bench/advise/series

start_registry
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${reg%:*}/${reg#*:}") 2>/dev/null && break; sleep 0.1; done
start_proxy "$reg"
log "pushing $N tags to $reg"
"$work/series" -registry "$reg" -n "$N" -from "$FROM"

export DOCKER_CONFIG=$work/docker XDG_CACHE_HOME=$work/cache
mkdir -p "$DOCKER_CONFIG" "$work/regctl-home"
HOME=$work/regctl-home "$bin/regctl" registry set --tls disabled "$proxy" >/dev/null
repo=$proxy/bench/series
want=1.$FROM.0
results=$work/results.tsv
: >"$results"
measure() { # label command...; the command prints the tag it found
  local label=$1; shift
  "$work/latencyproxy" stats -reset -addr "$proxy"
  local start found
  start=$(date +%s%N)
  found=$("$@")
  local ms reqs
  ms=$(ms_since "$start")
  reqs=$("$work/latencyproxy" stats -addr "$proxy" | awk -F'\t' '$1 == "total" {print $2}')
  printf '%s\t%d\t%d\t%s\n' "$label" "$ms" "$reqs" "$found" >>"$results"
  log "$label: $ms ms, $reqs requests, found $found"
  [[ $found == "$want" ]] || { echo "bench/advise: $label found $found, want $want" >&2; exit 1; }
}
run_archway() {
  "$work/archway" advise --no-cache --insecure-registry "$proxy" -o json "$repo:1.$START.0" >"$work/advise.json" || true
  awk -F'"' '/"nearest"/ {getline; print $4; exit}' "$work/advise.json"
}
# newer TAGS... prints the tags above START, in release order.
newer() { grep -E '^1\.[0-9]+\.0$' | sort -t. -k2,2n | awk -F. -v s="$START" '$2 > s'; }
first_arm64() { # manifest-command...: the first newer tag whose manifest lists arm64
  local t
  while read -r t; do
    if "$@" "$repo:$t" 2>/dev/null | grep -q '"arm64"'; then echo "$t"; return 0; fi
  done
  return 1
}
run_crane() { "$bin/crane" ls --insecure "$repo" | newer | first_arm64 "$bin/crane" manifest --insecure; }
run_regctl() { HOME=$work/regctl-home "$bin/regctl" tag ls "$repo" | newer | HOME=$work/regctl-home first_arm64 "$bin/regctl" manifest get --format raw-body; }

measure "archway advise" run_archway
measure "crane ls + crane manifest per tag" run_crane
measure "regctl tag ls + regctl manifest get per tag" run_regctl
probes=$(awk -F': *' '/"probes"/ {gsub(",", "", $2); print $2; exit}' "$work/advise.json")
budget=$(awk -F': *' '/"budget"/ {gsub(",", "", $2); print $2; exit}' "$work/advise.json")

awk -F'\t' -v n="$N" -v from="$FROM" -v start="$START" -v rtt=$((2 * DELAY_MS)) -v probes="$probes" -v budget="$budget" '
  { label[NR] = $1; ms[NR] = $2; req[NR] = $3 }
  END {
    printf "\narchway advise benchmark: %d tags, arm64 from 1.%d.0, asked from 1.%d.0, %d ms round trip (latency proxy)\n\n", n, from, start, rtt
    printf "%-46s %9s %9s %12s\n", "tool", "wall", "requests", "÷ archway"
    best = 0
    for (i = 1; i <= NR; i++) {
      printf "%-46s %8.2fs %9d %11.1f×\n", label[i], ms[i] / 1000, req[i], ms[i] / ms[1]
      if (i > 1 && (best == 0 || ms[i] < best)) best = ms[i]
    }
    printf "\narchway: %d manifest lookups in the search, budget %d\n", probes, budget
    printf "targets: search within the budget: %s; faster than the fastest peer script: %s (%.1f×)\n",
      (probes <= budget ? "met" : "NOT met"), (best > ms[1] ? "met" : "NOT met"), best / ms[1]
  }' "$results"
