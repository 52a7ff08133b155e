// operator/azure reaches the operator's runtime only through its ports module: no other file of it imports
// config, log, kube/, reconcile/ or any other runtime module (README gives the same check as a grep).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const AZURE = join(import.meta.dirname, "..", "..", "operator", "azure");
/** An import or re-export of a module one directory up that is not in crds/ or pulumi/ (two up). */
const RUNTIME_IMPORT = /(?:from|import)\s*\(?\s*["'](\.\.\/[^."'][^"']*)["']/g;

function runtimeImports(file: string): string[] {
  const text = readFileSync(join(AZURE, file), "utf8");
  return [...text.matchAll(RUNTIME_IMPORT)].map((m) => m[1] as string);
}

describe("operator/azure's imports", () => {
  const files = readdirSync(AZURE).filter((f) => f.endsWith(".ts"));

  it("finds the modules it checks", () => {
    expect(files).toContain("ports.ts");
    expect(files.length).toBeGreaterThan(10);
    // The pattern does catch a runtime import, static or dynamic, and leaves crds/ and pulumi/ alone.
    const probe =
      'import { x } from "../log.ts";\nconst y = await import("../kube/objects.ts");\nimport "../../crds/index.ts";';
    expect([...probe.matchAll(RUNTIME_IMPORT)].map((m) => m[1])).toEqual(["../log.ts", "../kube/objects.ts"]);
  });

  it.each(files.filter((f) => f !== "ports.ts"))(
    "%s imports no runtime module but through ports.ts",
    (file) => {
      expect(runtimeImports(file)).toEqual([]);
    },
  );
});
