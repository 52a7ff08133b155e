// Bundles the plugin into one file, dist/kubectl-modelkeys.mjs (its dependencies and crds/ inlined), for the npm
// package and as the script of the single executable (sea.sh). esbuild comes with the repository's dev tools.
import { chmodSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Builds the bundle in `format` (esm for npm, cjs for Node's single executable applications). */
export async function bundle(format: "esm" | "cjs"): Promise<string> {
  const outfile = here(`./dist/kubectl-modelkeys.${format === "esm" ? "mjs" : "cjs"}`);
  mkdirSync(here("./dist"), { recursive: true });
  await build({
    entryPoints: [here("./bin/kubectl-modelkeys.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format,
    minify: true,
    legalComments: "external",
    // ESM dependencies that call require() (CommonJS inside) need one in an ES module bundle.
    banner:
      format === "esm"
        ? { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" }
        : {},
    logLevel: "warning",
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const format = process.argv.includes("--cjs") ? "cjs" : "esm";
  console.log(`wrote ${await bundle(format)}`);
}
