#!/usr/bin/env bash
# Builds the ecosystem tools the tests run (helm, kstatus, argo-health, promrules, promtext) from the pinned
# module in this folder, in one `go build` so they share dependencies, into a cache directory keyed by
# the pinned versions and the sources, and prints that directory. A second run reuses the cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
require_version() { grep -oP -m1 "^\s*(require\s+)?\Q$1\E\s+\Kv\S+" "$here/go.mod"; }
helm_version=$(require_version helm.sh/helm/v3)
client_go_version=$(require_version k8s.io/client-go)
[[ -n "$helm_version" && -n "$client_go_version" ]] || { echo "build.sh: cannot read pinned versions from go.mod" >&2; exit 1; }
key=$( (cat "$here/go.mod" "$here/go.sum"; find "$here" -name "*.go" -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-12)
out="${MODELKEYS_CACHE:-$HOME/.cache/modelkeys}/tools/helm-$helm_version-$key"
built() { [[ -x "$out/helm" && -x "$out/kstatus" && -x "$out/argo-health" && -x "$out/promrules" && -x "$out/promtext" ]]; }
if built; then echo "$out"; exit 0; fi
# Concurrent callers wait for one build instead of racing on the same output directory.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if built; then echo "$out"; exit 0; fi
rm -rf "$out.partial" && mkdir -p "$out.partial"
export CGO_ENABLED=0 GOFLAGS=-trimpath
# Helm's Makefile stamps its version and the Kubernetes version it was built against (client-go v0.X.Y is 1.X).
kube_minor=$(echo "$client_go_version" | cut -d. -f2)
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.metadata="
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
done
echo "building helm $helm_version, kstatus, argo-health, promrules, promtext (cold: a few minutes)" >&2
(cd "$here" && go build -ldflags "$ldflags" -o "$out.partial/" helm.sh/helm/v3/cmd/helm ./kstatus ./argo-health ./promrules ./promtext)
rm -rf "$out" && mv "$out.partial" "$out"
echo "$out"
