#!/usr/bin/env bash
# The lean operator, as the image gets it: the Dockerfile's deps stage (package.json + package-lock.json,
# `npm ci --omit=dev`) in a scratch directory outside the repository, the compiled out/ beside it, and then
#   - the compiled entry point runs there: `node out/operator/main.js --version` loads every module that
#     main.js imports statically (ES modules are linked before any code runs) and prints the release version;
#   - nothing that only generates manifests or runs in development is installed;
#   - the size of the production tree is printed (the README's and the release note's figure);
#   - `npm run sbom` writes a CycloneDX SBOM of exactly those dependencies.
# Run by .ci/run after `npm ci`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
version="$(node -p 'require("./package.json").version')"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/modelkeys-operator-XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

echo "== compiling (npm run build) into $scratch/out"
npx tsc -p tsconfig.json --outDir "$scratch/out"
# operator/version.ts imports package.json; tsc emits it beside the code, as in the image.
test -f "$scratch/out/package.json"

echo "== npm ci --omit=dev (the Dockerfile's deps stage)"
cp package.json package-lock.json "$scratch/"
(cd "$scratch" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error)
echo "   production node_modules: $(du -sm "$scratch/node_modules" | cut -f1) MB"

for name in cdk8s cdk8s-plus-27 cdk8s-cli constructs tsx vitest @biomejs/biome @peculiar/x509 reflect-metadata; do
  if [[ -e "$scratch/node_modules/$name" ]]; then
    echo "$name is in the operator's production dependencies" >&2
    exit 1
  fi
done

echo "== node out/operator/main.js --version (production dependencies only)"
printed="$(cd "$scratch" && NODE_ENV=production node out/operator/main.js --version)"
echo "   $printed"
if [[ "$printed" != "modelkeys $version" ]]; then
  echo "expected 'modelkeys $version'" >&2
  exit 1
fi

echo "== npm run sbom (of the tree just installed)"
sbom="$(MODELKEYS_SBOM_TREE="$scratch" bash scripts/sbom.sh "$scratch/sbom.cdx.json")"
# Every package the production install holds (package-lock.json entries not marked dev), and nothing else.
node -e '
  const [sbomFile, lockFile, version] = process.argv.slice(1);
  const bom = JSON.parse(require("fs").readFileSync(sbomFile, "utf8"));
  const lock = JSON.parse(require("fs").readFileSync(lockFile, "utf8"));
  const fail = (m) => { console.error(m); process.exit(1); };
  if (bom.bomFormat !== "CycloneDX") fail("not CycloneDX");
  if (bom.metadata.component.version !== version) fail("the SBOM names another version");
  const listed = new Set(bom.components.map((c) => `${c.name}@${c.version}`));
  const installed = new Set(
    Object.entries(lock.packages)
      .filter(([path, entry]) => path && !entry.dev)
      .map(([path, entry]) => `${path.replace(/.*node_modules\//, "")}@${entry.version}`),
  );
  const missing = [...installed].filter((p) => !listed.has(p));
  const extra = [...listed].filter((p) => !installed.has(p));
  if (missing.length || extra.length) fail(`SBOM differs from the install: missing ${missing}, extra ${extra}`);
  console.log(`   ${listed.size} components, CycloneDX ${bom.specVersion}, the same as installed`);
' "$sbom" package-lock.json "$version"
echo "operator production check passed"
