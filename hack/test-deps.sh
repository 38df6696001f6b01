#!/usr/bin/env bash
# Installs everything archway's tests need on a fresh Debian machine:
# Debian packages with apt-get, Go tools with go install, and the
# Kubernetes control-plane binaries built from the Go module proxy.
# Idempotent: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# docker-registry: the real registry (distribution 2.8) the registry tests start on loopback.
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
# htpasswd: bcrypt password files for the registry's basic auth.
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
# patch: the diff test applies place's dry-run diff with the real patch (and git apply).
command -v patch >/dev/null 2>&1 || need_apt+=(patch)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# ca-certificates: the image-build test ships the CA bundle in archway's image.
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need_apt+=(ca-certificates)
# chromium: the headless browser internal/report's HTML test drives with chromedp.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)

if ((${#need_apt[@]})); then
  echo "test-deps: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# docker-registry's package starts a system daemon on :5000; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop docker-registry >/dev/null 2>&1 || true; fi
# Only the package's daemon (its pidfile), never the registries running tests start.
if [[ -f /var/run/docker-registry.pid ]]; then
  start-stop-daemon --stop --quiet --pidfile /var/run/docker-registry.pid >/dev/null 2>&1 || true
fi

# Go tools at pinned versions, installed into $(go env GOPATH)/bin (where the
# tests and `make lint` look): crane and regctl read archway's indexes back in
# the interop tests; golangci-lint is `make lint`.
go_tools=(
  "crane github.com/google/go-containerregistry/cmd/crane v0.22.1"
  "regctl github.com/regclient/regclient/cmd/regctl v0.11.7"
  "golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint v2.15.0"
)
gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
for tool in "${go_tools[@]}"; do
  read -r bin pkg version <<<"$tool"
  if [[ -x "$gobin/$bin" ]] && go version -m "$gobin/$bin" 2>/dev/null | grep -q "[[:space:]]$version\b"; then
    continue
  fi
  echo "test-deps: go install $pkg@$version"
  go install "$pkg@$version"
done

# The Kubernetes control plane internal/testenv starts: kube-apiserver and
# kube-scheduler built from source (about 15 minutes the first time) and
# Debian's etcd, cached under ${XDG_CACHE_HOME:-$HOME/.cache}/archway/k8s/<version>.
k8s_bin_dir="$(bash hack/k8s-binaries.sh)"
echo "test-deps: Kubernetes control plane in $k8s_bin_dir"
