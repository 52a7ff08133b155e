#!/usr/bin/env bash
# The operator's software bill of materials: CycloneDX JSON of its production dependencies, exactly the tree
# the image's `npm ci --omit=dev` installs. Prints the path it wrote.
#   npm run sbom [-- <file>]     default out/sbom/modelkeys-operator-<version>.cdx.json
# MODELKEYS_SBOM_TREE=<dir>: a directory where package.json and package-lock.json were already installed with
# `npm ci --omit=dev` (its package.json is replaced); without it the script installs one in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(node -p 'require("./package.json").version')"
out="$(realpath -m "${1:-out/sbom/modelkeys-operator-$version.cdx.json}")"
mkdir -p "$(dirname "$out")"

tree="${MODELKEYS_SBOM_TREE:-}"
if [[ -z "$tree" ]]; then
  tree="$(mktemp -d "${TMPDIR:-/tmp}/modelkeys-sbom-XXXXXX")"
  trap 'rm -rf "$tree"' EXIT
  cp package.json package-lock.json "$tree/"
  (cd "$tree" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
fi

# Why not `npm sbom --omit=dev` here: it drops production packages that a devDependency also reaches
# (npm/cli#7909: 58 of ours), and on a production install it refuses the missing devDependencies. So the
# installed production tree is described under a manifest without devDependencies.
node -e '
  const manifest = require("./package.json");
  delete manifest.devDependencies;
  require("fs").writeFileSync(process.argv[1], JSON.stringify(manifest, null, 2));
' "$tree/package.json"
# npm names the root component after the directory; the package's name is what the purl says.
(cd "$tree" && npm sbom --sbom-format=cyclonedx --sbom-type=application) |
  node -e '
    const bom = JSON.parse(require("fs").readFileSync(0, "utf8"));
    bom.metadata.component.name = process.argv[1];
    process.stdout.write(JSON.stringify(bom, null, 2) + "\n");
  ' "$(node -p 'require("./package.json").name')" > "$out"
echo "$out"
