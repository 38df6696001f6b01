#!/usr/bin/env bash
# Runs every test. In CI (CI=true) tests that need an installed server fail
# when it is missing instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -count=1 -timeout 30m ./...
