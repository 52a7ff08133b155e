#!/usr/bin/env bash
# Builds kubectl-modelkeys as one executable with Node's single executable applications (SEA): the CommonJS
# bundle (build.ts --cjs) injected into a copy of this machine's node binary with postject. The result runs
# without Node.js installed, for this OS and architecture (release archives are built on each platform).
# Usage: bash kubectl-modelkeys/sea.sh  ->  kubectl-modelkeys/dist/kubectl-modelkeys
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="$here/dist"
POSTJECT_VERSION=1.0.0-alpha.6

node "$here/build.ts" --cjs
cat > "$dist/sea-config.json" <<JSON
{ "main": "$dist/kubectl-modelkeys.cjs", "output": "$dist/sea-prep.blob", "disableExperimentalSEAWarning": true }
JSON
node --experimental-sea-config "$dist/sea-config.json"
cp "$(command -v node)" "$dist/kubectl-modelkeys"
chmod u+w "$dist/kubectl-modelkeys"
if [[ "$(uname -s)" == Darwin ]]; then codesign --remove-signature "$dist/kubectl-modelkeys"; fi
npx --yes "postject@$POSTJECT_VERSION" "$dist/kubectl-modelkeys" NODE_SEA_BLOB "$dist/sea-prep.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 \
  $([[ "$(uname -s)" == Darwin ]] && echo --macho-segment-name NODE_SEA)
if [[ "$(uname -s)" == Darwin ]]; then codesign --sign - "$dist/kubectl-modelkeys"; fi
echo "$dist/kubectl-modelkeys"
