#!/usr/bin/env bash
# Runs archway's benchmarks (make bench). Each prints its own table.
#   N=200 make bench      a quicker run with fewer images
set -euo pipefail
cd "$(dirname "$0")"
bash check/run.sh
