#!/usr/bin/env bash
# Runs every test, with the race detector. In CI (CI=true) tests that need
# an installed server fail when it is missing instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -race -count=1 -timeout 30m ./...
