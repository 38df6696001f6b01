#!/usr/bin/env bash
# Runs every test, with the race detector, then each fuzz target for a
# short fixed time on top of its seed corpus (testdata/fuzz). In CI
# (CI=true) tests that need an installed server fail when it is missing
# instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -timeout 30m ./...

# Fuzz targets: package, target and a budget of executions (-fuzztime Nx),
# each about 10 s here. A count, not a duration: a duration races Go's fuzz
# coordinator at its deadline and fails a loaded run with a bare "context
# deadline exceeded" (go.dev/issue/75804), which hit FuzzHelm here, whose
# every execution is a child process.
fuzz_targets=(
  "./internal/manifest FuzzManifest 20000x"
  "./internal/registry FuzzParseReference 25000x"
  "./internal/platform FuzzParse 200000x"
  "./internal/render FuzzHelm 200x"
  "./internal/render FuzzKustomize 200x"
  "./internal/webhook FuzzAdmissionReview 10000x"
  "./internal/rewrite FuzzRewrite 2000x"
)
for t in "${fuzz_targets[@]}"; do
  read -r pkg target budget <<<"$t"
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg"
done
