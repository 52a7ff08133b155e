#!/usr/bin/env bash
# The operator's software bill of materials: CycloneDX JSON of its production dependencies (exactly what the
# image's `npm ci --omit=dev` installs), read from package-lock.json. Prints the path it wrote.
#   npm run sbom [-- <file>]     default out/sbom/modelkeys-operator-<version>.cdx.json
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(node -p 'require("./package.json").version')"
out="${1:-out/sbom/modelkeys-operator-$version.cdx.json}"
mkdir -p "$(dirname "$out")"
# npm names the root component after the checkout's folder; the package's name is what the purl says.
npm sbom --sbom-format=cyclonedx --sbom-type=application --omit=dev --package-lock-only |
  node -e '
    const bom = JSON.parse(require("fs").readFileSync(0, "utf8"));
    bom.metadata.component.name = require("./package.json").name;
    process.stdout.write(JSON.stringify(bom, null, 2) + "\n");
  ' > "$out"
echo "$out"
