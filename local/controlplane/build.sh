#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kubectl) from the pinned Go modules in
# kube/ and etcd/, into a cache directory keyed by the pinned versions, and prints that directory.
# A second run with the same pins reuses the cache and builds nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Versions come from the require lines only (comments in go.mod mention the module paths too).
require_version() { grep -oP -m1 "^\s*(require\s+)?\Q$1\E\s+\Kv\S+" "$2"; }
kube_version=$(require_version k8s.io/kubernetes "$here/kube/go.mod")
etcd_version=$(require_version go.etcd.io/etcd/server/v3 "$here/etcd/go.mod")
[[ -n "$kube_version" && -n "$etcd_version" ]] || { echo "build.sh: cannot read pinned versions from go.mod" >&2; exit 1; }
# The key also covers the wrapper modules, so a changed replace or go.sum rebuilds.
key=$(cat "$here/kube/go.mod" "$here/kube/go.sum" "$here/etcd/go.mod" "$here/etcd/go.sum" "$here/etcd/main.go" | sha256sum | cut -c1-12)
out="${MODELKEYS_CACHE:-$HOME/.cache/modelkeys}/controlplane/kube-$kube_version-etcd-$etcd_version-$key"
built() { [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kubectl" ]]; }
if built; then echo "$out"; exit 0; fi
# Concurrent callers wait for one build instead of racing on the same output directory.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if built; then echo "$out"; exit 0; fi
mkdir -p "$out.partial"
export CGO_ENABLED=0 GOFLAGS=-trimpath
ldflags_kube="-s -w -X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/client-go/pkg/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$kube_version" | cut -d. -f2)"
echo "building etcd $etcd_version" >&2
(cd "$here/etcd" && go build -ldflags "-s -w" -o "$out.partial/etcd" .)
echo "building kube-apiserver and kubectl $kube_version (cold: several minutes)" >&2
(cd "$here/kube" && go build -ldflags "$ldflags_kube" -o "$out.partial/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
rm -rf "$out" && mv "$out.partial" "$out"
echo "$out"
