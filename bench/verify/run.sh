#!/usr/bin/env bash
# Benchmark: `archway verify` on a large layer against `gzip -dc` on the
# same bytes.
#
# bench/verify/biglayer writes LAYERS gzip layers of FILES files in all
# whose bodies add up to MIB MiB (text that compresses about 2.5:1, one file
# in 20 an arm64 ELF) and pushes an arm64 image of them to Debian's
# docker-registry on loopback. Then, in the same run:
#   gzip -dc LAYERS... > /dev/null         decompressing the blobs, one by one
#   archway verify --no-cache              fetch, digest, gunzip, tar, sniff
#   archway verify (cold cache)            the same, writing the layer record
#   archway verify (warm cache)            the record read back, no blob fetched
# each under /usr/bin/time -v for wall time, CPU time (user + system: what
# a busy machine cannot inflate) and peak RSS (VmHWM when GNU time is
# missing). Throughput is uncompressed MB/s; "÷ gzip" is archway's
# throughput over gzip's (target ≥ 1.0); peak RSS target ≤ 64 MiB per layer
# in flight.
#
# Each is run REPEAT times; the table has the least wall time and the
# largest peak RSS.
#
# Environment: MIB (512), FILES (40000), LAYERS (1), REPEAT (3).
# Needs Go and docker-registry (installed with apt-get when missing and root).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

MIB=${MIB:-512}
FILES=${FILES:-40000}
LAYERS=${LAYERS:-1}
REPEAT=${REPEAT:-3}

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
bench_setup verify

log "building archway and biglayer"
go build -o "$work/archway" ./cmd/archway
go build -o "$work/biglayer" ./bench/verify/biglayer

start_registry
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${reg%:*}/${reg#*:}") 2>/dev/null && break; sleep 0.1; done
ref=$reg/bench/big:1
log "writing $LAYERS layer(s), $MIB MiB in $FILES files, and pushing them to $ref"
t0=$(date +%s%N)
"$work/biglayer" -registry "$reg" -repo bench/big:1 -out "$work/layers" -mib "$MIB" -files "$FILES" -layers "$LAYERS" ||
  { tail -20 "$work/registry.log" >&2; exit 1; }
log "generated and pushed in $(ms_since "$t0") ms"
layers=("$work"/layers/layer-*.tar.gz)
blob=$(cat "${layers[@]}" | wc -c)
plain=$(gzip -dc "${layers[@]}" | wc -c)

export DOCKER_CONFIG=$work/docker XDG_CACHE_HOME=$work/cache
mkdir -p "$DOCKER_CONFIG"
results=$work/results.tsv
: >"$results"

# once OUT COMMAND...: run COMMAND once, stdout to OUT; sets ms, rss
# (peak KiB), cpu (user + system ms; 0 without GNU time) and rc.
once() {
  local out=$1; shift
  local start end
  rc=0 cpu=0
  start=$(date +%s%N)
  if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    /usr/bin/time -v -o "$work/time.txt" "$@" >"$out" || rc=$?
    end=$(date +%s%N)
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%d", s * 1000}' "$work/time.txt")
  else
    "$@" >"$out" &
    local pid=$! v
    rss=0
    while kill -0 "$pid" 2>/dev/null; do
      v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [[ -n $v && $v -gt $rss ]] && rss=$v
      sleep 0.05
    done
    wait "$pid" || rc=$?
    end=$(date +%s%N)
  fi
  ms=$(( (end - start) / 1000000 ))
}

# measure LABEL OUT COMMAND...: the least wall ms and the largest peak RSS
# of REPEAT runs of COMMAND (the machine is shared; the least time is the
# one least disturbed).
measure() {
  local label=$1 out=$2; shift 2
  local best=0 best_cpu=0 peak=0 worst_rc=0
  for _ in $(seq "$REPEAT"); do
    once "$out" "$@"
    if [[ $best == 0 || $ms -lt $best ]]; then best=$ms; fi
    if [[ $best_cpu == 0 || $cpu -lt $best_cpu ]]; then best_cpu=$cpu; fi
    if [[ $rss -gt $peak ]]; then peak=$rss; fi
    if [[ $rc -ne 0 ]]; then worst_rc=$rc; fi
  done
  printf '%s\t%d\t%d\t%d\t%d\n' "$label" "$best" "$peak" "$worst_rc" "$best_cpu" >>"$results"
  log "$label: best of $REPEAT $best ms ($best_cpu ms CPU), peak RSS $peak KiB, exit $worst_rc"
}
measure "gzip -dc > /dev/null" /dev/null gzip -dc "${layers[@]}"
measure "archway version (RSS baseline)" /dev/null "$work/archway" version
measure "archway verify --no-cache" "$work/verify.json" "$work/archway" verify -o json --no-cache "$ref"
grep -q '"verdict": "verified"' "$work/verify.json" ||
  { echo "bench/verify: archway did not verify the image:" >&2; head -40 "$work/verify.json" >&2; exit 1; }
measure "archway verify (cold cache)" "$work/verify.json" \
  bash -c 'rm -rf "$1" && exec "$2" verify -o json "$3"' _ "$XDG_CACHE_HOME" "$work/archway" "$ref"
measure "archway verify (warm cache)" "$work/verify.json" "$work/archway" verify -o json "$ref"
grep -q '"verdict": "verified"' "$work/verify.json" || { echo "bench/verify: the cached run did not verify" >&2; exit 1; }

awk -F'\t' -v blob="$blob" -v plain="$plain" -v files="$FILES" -v nl="$LAYERS" '
  { label[NR] = $1; ms[NR] = $2; rss[NR] = $3; rc[NR] = $4; cpu[NR] = $5 }
  END {
    base = rss[2]
    printf "\narchway verify benchmark: %d layer(s), %d files, %.0f MB uncompressed, %.0f MB gzip blobs\n\n", nl, files, plain / 1e6, blob / 1e6
    printf "%-32s %9s %12s %9s %9s %12s %14s %5s\n", "run", "wall", "MB/s (tar)", "÷ gzip", "CPU", "peak RSS", "over baseline", "exit"
    for (i = 1; i <= NR; i++) {
      if (i == 2) {
        printf "%-32s %9s %12s %9s %9s %9.1f MiB %14s %5d\n", label[i], "-", "-", "-", "-", rss[i] / 1024, "-", rc[i]
        continue
      }
      over = (i > 2 ? sprintf("%.1f MiB", (rss[i] - base) / 1024) : "-")
      printf "%-32s %8.2fs %12.0f %8.2f× %8.2fs %9.1f MiB %14s %5d\n", label[i], ms[i] / 1000, plain / 1e6 / (ms[i] / 1000), ms[1] / ms[i], cpu[i] / 1000, rss[i] / 1024, over, rc[i]
    }
    printf "\ntargets: throughput ≥ 1.0× gzip -dc: %s (%.2f×); ≤ 64 MiB per layer in flight (peak RSS over the binary'"'"'s baseline, ÷ min(layers, 4)): %s (%.1f MiB)\n",
      (ms[3] <= ms[1] ? "met" : "NOT met"), ms[1] / ms[3], ((rss[3] - base) / (nl < 4 ? nl : 4) <= 65536 ? "met" : "NOT met"), (rss[3] - base) / 1024 / (nl < 4 ? nl : 4)
  }' "$results"
