#!/usr/bin/env bash
# The consumer test of the npm packages: packs each package under packages/, installs the tarballs into a
# fresh scratch project outside the repository (no tsx, no path back to the sources), and there
#   1. a TypeScript consumer compiles with `tsc --strict` (the published .d.ts carry real types),
#   2. a plain-node consumer synthesizes a chart with the constructs, and the YAML passes
#      `kubectl apply --dry-run=server` on the local control plane, against the CRDs shipped in @modelkeys/api,
#   3. a Pulumi consumer runs the Azure component under Pulumi's mock runtime.
# Needs KUBEBUILDER_ASSETS (local/controlplane/build.sh) and node_modules; run by .ci/run.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
: "${KUBEBUILDER_ASSETS:?set KUBEBUILDER_ASSETS=\$(bash local/controlplane/build.sh)}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/modelkeys-consumer-XXXXXX")"
cp_pid=""
cleanup() {
  if [[ -n "$cp_pid" ]]; then kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "== packing the packages"
mapfile -t tarballs < <(npx tsx packages/build.ts)
printf '   %s\n' "${tarballs[@]}"

# The peers at the versions this repository is tested with (from the npm cache when it has them).
installed() { node -p "require('./node_modules/$1/package.json').version"; }
peers=()
for name in cdk8s constructs @pulumi/pulumi @pulumi/azure-native typescript @types/node; do
  peers+=("$name@$(installed "$name")")
done

echo "== installing the tarballs into $scratch"
cp test/packages/consumer.ts test/packages/tsconfig.json test/packages/synth.mjs test/packages/pulumi-mock.mjs "$scratch/"
cd "$scratch"
printf '{ "name": "modelkeys-consumer", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --prefer-offline --loglevel=error "${tarballs[@]}" "${peers[@]}"
if [[ -e node_modules/tsx ]]; then echo "tsx was installed into the consumer project" >&2; exit 1; fi
for name in @modelkeys/api @modelkeys/cdk8s @modelkeys/pulumi; do
  # Installed from the tarball (a copy), never a link back into the repository.
  if [[ -L "node_modules/$name" ]]; then echo "$name is a link" >&2; exit 1; fi
done

echo "== 1. TypeScript consumer: tsc --strict"
npx tsc -p tsconfig.json
echo "   compiled"

echo "== 3. Pulumi consumer: the Azure component under the mock runtime"
node pulumi-mock.mjs

echo "== 2. plain-node consumer: synth, then apply --dry-run=server"
namespace="consumer-$$"
node synth.mjs chart.yaml "$namespace" scheme.yaml
# The control plane, started from the repository (its tooling), for the scratch project to talk to.
(cd "$repo" && exec node --import tsx local/controlplane/main.ts --kubeconfig "$scratch/kubeconfig") > controlplane.log 2>&1 &
cp_pid=$!
deadline=$((SECONDS + 180))
until grep -q '"controlplane.ready"' controlplane.log; do
  if ! kill -0 "$cp_pid" 2>/dev/null || ((SECONDS > deadline)); then
    echo "the local control plane did not come up:" >&2
    tail -20 controlplane.log >&2
    exit 1
  fi
  sleep 1
done
kubectl="$(node -e 'for (const l of require("fs").readFileSync("controlplane.log","utf8").split("\n"))
  if (l.includes("controlplane.ready")) console.log(JSON.parse(l).kubectl)')"
k() { "$kubectl" --kubeconfig "$scratch/kubeconfig" "$@"; }
k apply --server-side -f node_modules/@modelkeys/api/crds/
k wait --for condition=Established --timeout=60s \
  crd/organizations.modelkeys.dev crd/providerconnections.modelkeys.dev
k create namespace "$namespace"
k apply --server-side --dry-run=server -f chart.yaml | tee apply.out
if [[ "$(grep -c 'serverside-applied (server dry run)' apply.out)" != 3 ]]; then
  echo "expected three objects applied in the server dry run" >&2
  exit 1
fi
# The CRD's CEL rules are live: a scheme the zod schema lets through is refused, naming the field.
if k apply --server-side --dry-run=server -f scheme.yaml > scheme.out 2>&1; then
  echo "the API server accepted an ftp:// endpoint" >&2
  exit 1
fi
grep -q 'spec.custom.endpoint: Invalid value.*must be an http or https URL' scheme.out || {
  cat scheme.out >&2
  exit 1
}
# The dry run created nothing.
if [[ -n "$(k get providerconnections.modelkeys.dev -n "$namespace" -o name)" ]]; then
  echo "the dry run created objects" >&2
  exit 1
fi
echo "consumer test passed"
