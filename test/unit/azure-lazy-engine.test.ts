// Pulumi costs tens of MiB and most installs never provision: the operator's controllers (the connection's and
// the account's) load no @pulumi module until an account is reconciled (operator/accounts/engine.ts is imported then).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO_ROOT = join(import.meta.dirname, "..", "..");

/** The @pulumi modules a fresh process holds after importing `modules`. */
function pulumiModulesAfter(modules: string[]): number {
  const script = [
    'import { createRequire } from "node:module";',
    ...modules.map((m) => `await import(${JSON.stringify(join(REPO_ROOT, m))});`),
    "const cache = Object.keys(createRequire(import.meta.url).cache);",
    'console.log(cache.filter((k) => k.includes("@pulumi")).length);',
  ].join("\n");
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  return Number(out.trim().split("\n").at(-1));
}

// Each probe is a fresh process compiling the TypeScript it imports: seconds on a loaded machine.
const PROBE_MS = 120_000;

describe("the Pulumi engine is loaded on first use", () => {
  it(
    "is not loaded by the controllers",
    () => {
      expect(pulumiModulesAfter(["operator/controller.ts", "operator/accounts/controller.ts"])).toBe(0);
    },
    PROBE_MS,
  );

  it(
    "is loaded with the engine (the probe sees it)",
    () => {
      expect(pulumiModulesAfter(["operator/accounts/engine.ts"])).toBeGreaterThan(0);
    },
    PROBE_MS,
  );
});
