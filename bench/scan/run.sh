#!/usr/bin/env bash
# Benchmark: `archway scan` of a large fleet against the lookup floor.
#
# It starts Debian's docker-registry on loopback, pushes IMAGES small images
# to it (bench/check/populate), puts bench/latencyproxy in front (DELAY_MS
# each way), and writes MANIFESTS Kubernetes manifests that use those images
# (bench/scan/genfleet: Deployments, StatefulSets, DaemonSets, CronJobs,
# some with sidecars and init containers; every image used by several). Then:
#   floor: archway check --no-cache -f refs.txt (just the distinct images)
#   scan:  archway scan --no-cache FLEET (parse, dedupe, look up, assess)
#   the same with --kind kubernetes (no per-file detection)
#   scan with a warm cache
#   parse: the same source readers without lookups (bench/scan/parsetime)
# Each is run RUNS times and the fastest counts (the machine may be busy).
# Target: the scan within 1.3× of the floor.
#
# Then the scale case: PODS Pods in one file, all using three images (the
# shape of a chart rendered at scale), at PODS/4, PODS/2 and PODS:
#   parse + assess: bench/scan/parsetime -assess (no lookups), each size
#   scan: archway scan --no-cache -o json of the PODS file (its three
#         lookups and the rendering too), wall and CPU seconds
# Target: linear growth (PODS vs PODS/4 within 5× in CPU time, not 16×), and
# PODS = 100,000 parsed and assessed in under 5 s. CPU seconds are printed
# beside the wall time: on a shared machine the wall time also measures
# the other loads.
#
# Environment: IMAGES (1000), MANIFESTS (10000), JOBS (32), DELAY_MS (25),
# RUNS (3), PODS (100000).
# Needs Go and docker-registry (installed with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

IMAGES=${IMAGES:-1000}
MANIFESTS=${MANIFESTS:-10000}
JOBS=${JOBS:-32}
DELAY_MS=${DELAY_MS:-25}
RUNS=${RUNS:-3}
PODS=${PODS:-100000}

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_setup scan

log "building archway, latencyproxy, populate, genfleet, parsetime"
go build -o "$work/archway" ./cmd/archway
go build -o "$work/latencyproxy" ./bench/latencyproxy
go build -o "$work/populate" ./bench/check/populate
go build -o "$work/genfleet" ./bench/scan/genfleet
go build -o "$work/parsetime" ./bench/scan/parsetime

# --- docker-registry and the latency proxy on loopback ----------------------
start_registry
start_proxy "$reg"

# --- images and fleet ----------------------------------------------------------
push_images "$IMAGES"
t0=$(date +%s%N)
"$work/genfleet" -refs "$work/refs.txt" -dir "$work/fleet" -n "$MANIFESTS"
log "wrote $MANIFESTS manifests in $(ms_since "$t0") ms"

# --- measurements ------------------------------------------------------------------
export DOCKER_CONFIG=$work/docker XDG_CACHE_HOME=$work/cache
mkdir -p "$DOCKER_CONFIG"
results=$work/results.tsv
: >"$results"
measure() { # label command...: the fastest of RUNS runs
  local label=$1; shift
  local best=0 reqs=0 rc=0 start ms
  for _ in $(seq "$RUNS"); do
    "$work/latencyproxy" stats -reset -addr "$proxy"
    rc=0
    start=$(date +%s%N)
    "$@" || rc=$?
    ms=$(ms_since "$start")
    reqs=$("$work/latencyproxy" stats -addr "$proxy" | awk -F'\t' '$1 == "total" {print $2}')
    log "$label: $ms ms, $reqs requests, exit $rc"
    if (( best == 0 || ms < best )); then best=$ms; fi
  done
  printf '%s\t%d\t%d\t%d\n' "$label" "$best" "$reqs" "$rc" >>"$results"
}
run_check() { "$work/archway" check -f "$work/refs.txt" --no-cache -o json --jobs "$JOBS" >"$work/check.json"; }
run_scan() { "$work/archway" scan "$work/fleet" -q -o json --fail-on never --jobs "$JOBS" "$@" >"$work/scan.json"; }

measure "archway check --no-cache (floor)" run_check
measure "archway scan --no-cache" run_scan --no-cache
summary=$(grep -m1 -A4 '"workloads": {' "$work/scan.json" | tr -d ' \n')
total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' <<<"$summary")
unknown=$(sed -n 's/.*"unknown":\([0-9]*\).*/\1/p' <<<"$summary")
if [[ $total != "$MANIFESTS" || $unknown != 0 ]]; then
  echo "bench/scan: scan reported $total workloads ($unknown unknown), want $MANIFESTS and 0 unknown" >&2
  grep '"error": "[^"]' "$work/scan.json" | head -5 >&2
  exit 1
fi
measure "archway scan --no-cache --kind kubernetes" run_scan --no-cache --kind kubernetes
run_scan >/dev/null # fills the on-disk cache
measure "archway scan (warm cache)" run_scan
parse=$("$work/parsetime" -runs "$RUNS" "$work/fleet")
IFS=$'\t' read -r p_workloads p_images p_ms <<<"$parse"
if [[ $p_images != "$IMAGES" ]]; then
  echo "bench/scan: the fleet uses $p_images distinct images, want $IMAGES" >&2
  exit 1
fi

# --- scale: PODS Pods in one file --------------------------------------------------
scale=$work/scale.tsv
: >"$scale"
for n in $((PODS / 4)) $((PODS / 2)) "$PODS"; do
  "$work/genfleet" -refs "$work/refs.txt" -pods "$n" -out "$work/pods-$n.yaml"
  line=$(/usr/bin/env time -f '%U %S' -o "$work/time.txt" "$work/parsetime" -runs "$RUNS" -assess "$work/pods-$n.yaml")
  IFS=$'\t' read -r s_workloads _ s_read s_both <<<"$line"
  read -r u sy <"$work/time.txt"
  if [[ $s_workloads != "$n" ]]; then
    echo "bench/scan: parsetime read $s_workloads workloads from $n Pods" >&2
    exit 1
  fi
  cpu=$(awk -v u="$u" -v s="$sy" -v r="$RUNS" 'BEGIN {printf "%.2f", (u + s) / r}')
  log "$n pods: read $s_read ms, read + assess $s_both ms, $cpu CPU s per run"
  printf '%d\t%d\t%d\t%s\n' "$n" "$s_read" "$s_both" "$cpu" >>"$scale"
done
run_scale() { # CPU seconds of each run appended to scale-cpu.txt
  /usr/bin/env time -f '%U %S' -a -o "$work/scale-cpu.txt" \
    "$work/archway" scan "$work/pods-$PODS.yaml" -q -o json --fail-on never --no-cache --jobs "$JOBS" >"$work/scale.json"
}
: >"$work/scale-cpu.txt"
measure "archway scan --no-cache -o json ($PODS pods, one file)" run_scale
scan_cpu=$(awk '{ if (min == "" || $1 + $2 < min) min = $1 + $2 } END { printf "%.2f", min }' "$work/scale-cpu.txt")
tail -1 "$results" >"$work/scale-scan.tsv" # not a run to compare with the floor
sed -i '$d' "$results"
if ! grep -q "\"total\": $PODS" "$work/scale.json"; then
  echo "bench/scan: the scan of $PODS pods did not report $PODS workloads" >&2
  exit 1
fi

# --- table ---------------------------------------------------------------------------
awk -F'\t' -v m="$MANIFESTS" -v n="$IMAGES" -v jobs="$JOBS" -v rtt=$((2 * DELAY_MS)) \
    -v pw="$p_workloads" -v pms="$p_ms" -v runs="$RUNS" '
  { label[NR] = $1; ms[NR] = $2; req[NR] = $3; rc[NR] = $4 }
  END {
    floor = ms[1]
    printf "\narchway scan benchmark: %d manifests (%d workloads) using %d distinct images, %d ms round trip (latency proxy), --jobs %d, best of %d runs\n\n", m, pw, n, rtt, jobs, runs
    printf "%-46s %10s %9s %9s\n", "run", "wall", "requests", "÷ floor"
    for (i = 1; i <= NR; i++)
      printf "%-46s %9.2fs %9d %8.2f×\n", label[i], ms[i] / 1000, req[i], ms[i] / floor
    printf "%-46s %9.2fs %9s %9s\n", "parse only (source.Read)", pms / 1000, "-", "-"
    printf "\nparse time: %.0f ms per 1,000 manifests\n", pms * 1000 / m
    printf "target: scan --no-cache within 1.3× of the floor (check of the %d distinct images): %s (%.2f×)\n",
      n, (ms[2] <= 1.3 * floor ? "met" : "NOT met"), ms[2] / floor
  }' "$results"
awk -F'\t' -v runs="$RUNS" '
  { n[NR] = $1; rd[NR] = $2; both[NR] = $3; cpu[NR] = $4 }
  END {
    printf "\nscale: Pods in one file using 3 images, parse (source.Read) and assess (assess.Assess), best of %d runs\n\n", runs
    printf "%10s %12s %16s %14s\n", "pods", "parse", "parse + assess", "CPU per run"
    for (i = 1; i <= NR; i++)
      printf "%10d %11.2fs %15.2fs %13.2fs\n", n[i], rd[i] / 1000, both[i] / 1000, cpu[i]
    g = cpu[NR] / cpu[1]
    printf "\ngrowth from %d to %d pods: %.1f× in CPU time, %.1f× in wall time (linear: 4×, quadratic: 16×): %s\n", n[1], n[NR], g, both[NR] / both[1], (g <= 5 ? "linear" : "NOT linear")
    printf "target: %d pods parsed and assessed under 5 s: %s (%.2fs wall, %.2fs CPU; load average %s)\n", n[NR], (both[NR] <= 5000 ? "met" : "NOT met"), both[NR] / 1000, cpu[NR], load
  }' load="$(cut -d' ' -f1 /proc/loadavg)" "$scale"
awk -F'\t' -v cpu="$scan_cpu" '{printf "%s: %.2fs wall (%ss CPU, the least of the runs), %d requests\n", $1, $2 / 1000, cpu, $3}' "$work/scale-scan.tsv"
