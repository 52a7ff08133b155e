#!/usr/bin/env bash
# The main job on a fresh machine: Node 24 (from the npm registry if needed), dependencies, the control plane,
# then the operator (what `npm start` runs; with no cluster configured it brings up the embedded local environment).
set -euo pipefail
cd "$(dirname "$0")/.."
export MODELKEYS_CACHE="${MODELKEYS_CACHE:-$HOME/.cache/modelkeys}"
node_dir=$(bash scripts/ensure-node.sh)
export PATH="$node_dir/bin:$PATH"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
export KUBEBUILDER_ASSETS="${KUBEBUILDER_ASSETS:-$(bash local/controlplane/build.sh)}"
# The operator replaces this shell, without npm in between: npm does not pass SIGTERM on, so the operator would
# be orphaned instead of stopping gracefully; this way a signal to this script's pid reaches it.
exec node --import tsx operator/main.ts "$@"
