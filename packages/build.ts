// Builds the npm packages (packages/<dir>/: a manifest, a README, a tsconfig naming the sources) into
// out/npm/<dir>/ and packs each into out/npm/<name>-<version>.tgz. Nothing is published.
// `npm run packages`; every folder under packages/ with a package.json is a package.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RELEASE_VERSION } from "../operator/version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SOURCE = join(ROOT, "packages");
/** Where the built packages and their tarballs go (gitignored). */
export const PACKAGES_OUT = join(ROOT, "out", "npm");

/** A package manifest as written under packages/<dir>/; `modelkeys` holds build settings, never published. */
interface Template {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Files copied into the package: {from (relative to the repository), to (a folder in the package)}. */
  modelkeys?: { assets?: { from: string; to: string }[] };
  [field: string]: unknown;
}

/** One built package: its folder under packages/, its manifest template and its tarball once packed. */
export interface BuiltPackage {
  dir: string;
  name: string;
  tarball: string;
}

function readTemplate(dir: string): Template {
  return JSON.parse(readFileSync(join(SOURCE, dir, "package.json"), "utf8")) as Template;
}

/** Our own packages a template depends on (by name). */
function internalDependencies(template: Template): string[] {
  return Object.keys({ ...template.dependencies, ...template.peerDependencies }).filter((name) =>
    name.startsWith("@modelkeys/"),
  );
}

/** Package folders, each after the packages it depends on (so that its tsconfig finds their .d.ts). */
export function packageDirs(): string[] {
  const dirs = readdirSync(SOURCE, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(SOURCE, entry.name, "package.json")))
    .map((entry) => entry.name)
    .sort();
  const byName = new Map(dirs.map((dir) => [readTemplate(dir).name, dir]));
  const ordered: string[] = [];
  const visit = (dir: string, path: string[]) => {
    if (ordered.includes(dir)) return;
    if (path.includes(dir)) throw new Error(`packages depend on each other in a cycle: ${[...path, dir]}`);
    for (const name of internalDependencies(readTemplate(dir))) {
      const dependency = byName.get(name);
      if (!dependency)
        throw new Error(`packages/${dir} depends on ${name}, which no packages/ folder builds`);
      visit(dependency, [...path, dir]);
    }
    ordered.push(dir);
  };
  for (const dir of dirs) visit(dir, []);
  return ordered;
}

/** The published manifest: the template with the release version, our own packages pinned to it. */
export function publishedManifest(template: Template, version = RELEASE_VERSION): Record<string, unknown> {
  const { modelkeys: _build, name, ...manifest } = template;
  const pin = (ranges: Record<string, string> | undefined) =>
    ranges &&
    Object.fromEntries(
      Object.entries(ranges).map(([name, range]) => [name, name.startsWith("@modelkeys/") ? version : range]),
    );
  return {
    name,
    version,
    ...manifest,
    ...(manifest.dependencies ? { dependencies: pin(manifest.dependencies) } : {}),
    ...(manifest.peerDependencies ? { peerDependencies: pin(manifest.peerDependencies) } : {}),
  };
}

/**
 * tsc keeps `./x.ts` specifiers in declaration files (only the JavaScript is rewritten); TypeScript ≥ 5 reads
 * them, older compilers and other tools do not, so the published .d.ts say `./x.js` like the JavaScript.
 */
export function rewriteDeclarationSpecifiers(source: string): string {
  return source.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']*?)\.ts\2/g, "$1$2$3.js$2");
}

function rewriteDeclarations(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = join(entry.parentPath, entry.name);
    writeFileSync(file, rewriteDeclarationSpecifiers(readFileSync(file, "utf8")));
  }
}

/** Compiles, assembles and packs one package. */
function buildPackage(dir: string): BuiltPackage {
  const template = readTemplate(dir);
  const out = join(PACKAGES_OUT, dir);
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(SOURCE, dir, "tsconfig.json")], { stdio: "inherit" });
  rewriteDeclarations(join(out, "dist"));
  for (const asset of template.modelkeys?.assets ?? []) {
    const from = join(ROOT, asset.from);
    mkdirSync(join(out, asset.to), { recursive: true });
    cpSync(from, join(out, asset.to, basename(from)));
  }
  cpSync(join(SOURCE, dir, "README.md"), join(out, "README.md"));
  writeFileSync(join(out, "package.json"), `${JSON.stringify(publishedManifest(template), null, 2)}\n`);
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", PACKAGES_OUT, out], {
      encoding: "utf8",
    }),
  ) as { filename: string }[];
  if (!packed) throw new Error(`npm pack of ${out} reported nothing`);
  return { dir, name: template.name, tarball: join(PACKAGES_OUT, basename(packed.filename)) };
}

/** Builds every package under packages/ into out/npm/ (emptied first). */
export function buildPackages(): BuiltPackage[] {
  rmSync(PACKAGES_OUT, { recursive: true, force: true });
  mkdirSync(PACKAGES_OUT, { recursive: true });
  return packageDirs().map(buildPackage);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const built of buildPackages()) process.stdout.write(`${built.tarball}\n`);
}
