#!/usr/bin/env bash
# Makes sure the Kubernetes control-plane binaries internal/testenv starts
# exist, and prints the directory holding them:
#
#   kube-apiserver, kube-scheduler  built from the Go module proxy with the
#                                   release pinned in hack/testenv/go.mod
#   etcd                            unpacked from Debian's etcd-server package
#                                   (never installed, so no daemon starts)
#
# The directory is $ARCHWAY_K8S_BIN_DIR when set, otherwise
# ${XDG_CACHE_HOME:-$HOME/.cache}/archway/k8s/<version>. Idempotent: binaries
# already there are kept, so only a fresh machine pays for the build (about
# 15 minutes on 2 cores; about 1 minute with a warm Go build cache). Delete the
# directory to rebuild. Progress goes to stderr; stdout is only the directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mod="$root/hack/testenv"

version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$mod/go.mod")"
if [[ ! "$version" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  echo "k8s-binaries: cannot read the k8s.io/kubernetes version from $mod/go.mod" >&2
  exit 1
fi
major="${BASH_REMATCH[1]}"
minor="${BASH_REMATCH[2]}"
dir="${ARCHWAY_K8S_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/archway/k8s/$version}"
mkdir -p "$dir"

# Several checkouts may run this at once; one builds, the others wait.
exec 9>"$dir/.lock"
flock 9

build() { # build <name>: go build k8s.io/kubernetes/cmd/<name> into $dir/<name>
  local name="$1" start pkg=k8s.io/component-base/version
  [[ -x "$dir/$name" ]] && return 0
  echo "k8s-binaries: building $name $version (about 15 minutes on a fresh machine)" >&2
  start=$SECONDS
  (cd "$mod" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    -o "$dir/.$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv -f "$dir/.$name.tmp" "$dir/$name"
  echo "k8s-binaries: built $name in $((SECONDS - start))s" >&2
}

etcd() { # unpack Debian's etcd-server into $dir/etcd without installing it
  [[ -x "$dir/etcd" ]] && return 0
  echo "k8s-binaries: unpacking etcd-server" >&2
  (
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cd "$tmp"
    if ! apt-get download -qq etcd-server >/dev/null 2>&1; then
      apt-get update -qq >&2
      apt-get download -qq etcd-server >/dev/null
    fi
    dpkg-deb -x etcd-server_*.deb root
    install -m 0755 root/usr/bin/etcd "$dir/.etcd.tmp"
  )
  mv -f "$dir/.etcd.tmp" "$dir/etcd"
}

etcd
build kube-apiserver
build kube-scheduler
echo "$dir"
