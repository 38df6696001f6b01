#!/usr/bin/env bash
# Benchmark: archway's admission webhook on loopback (see main.go).
#   warm cache: RATE req/s for DURATION, latency percentiles (target p99 ≤ 1 ms)
#   cold burst: BURST concurrent admissions of one new image → 1 manifest GET
#   reinvocation: BURST placed pods sent again with a sidecar injected → 0 registry requests
# Environment: RATE (1000), DURATION (10s), BURST (100).
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o bench/webhook/.bin/webhook-bench ./bench/webhook
exec bench/webhook/.bin/webhook-bench -rate "${RATE:-1000}" -duration "${DURATION:-10s}" -burst "${BURST:-100}"
