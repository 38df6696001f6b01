#!/usr/bin/env bash
# Runs archway's benchmarks (make bench). Each prints its own table.
#   N=200 make bench      a quicker run with fewer images (check)
#   IMAGES=100 MANIFESTS=1000 make bench   a quicker scan benchmark
#   MIB=128 REPEAT=1 make bench   a quicker verify benchmark
set -euo pipefail
cd "$(dirname "$0")"
bash check/run.sh
bash scan/run.sh
bash webhook/run.sh
bash quota/run.sh
bash verify/run.sh
