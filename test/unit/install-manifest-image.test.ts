// The Dockerfile cannot be built here (no container engine), so this checks what can be checked without
// one: it agrees with the install manifest (user, ports, entry point), and the code its entry point loads
// needs only production dependencies (the image installs `npm ci --omit=dev`).
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { installManifest } from "../../cdk8s/install.ts";
import { INSTALL } from "../../cdk8s/names.ts";
import { RUN_AS } from "../../cdk8s/operator-deployment.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const dockerignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));
const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  type: string;
  dependencies: Record<string, string>;
};
const tsconfig = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8")) as {
  compilerOptions: Record<string, unknown>;
};

/** Instructions (continuation lines joined) of the Dockerfile's last stage. */
function finalStage(): string[] {
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  const lastFrom = instructions.map((line) => line.startsWith("FROM ")).lastIndexOf(true);
  return instructions.slice(lastFrom);
}

/** The package a bare import specifier names: "zod", "@pulumi/pulumi/automation/index.js" → "@pulumi/pulumi". */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/**
 * The packages that the modules reachable from `entry` import at run time. `import type` is erased by tsc.
 * A dynamic `import("package")` counts (a lazily loaded dependency is still a run-time one); a dynamic import
 * of our own modules is followed too, except into local/: operator/main.ts loads the embedded environment that
 * way, only without a cluster, and only from a clone with its devDependencies (never in the image).
 */
function runtimePackages(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const pending = [entry];
  const statement = /^\s*(?:import|export)\s+(?!type\s)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm;
  // `await import("x")` or `import("x")` as a value; `import("x").Type` in a type position is erased.
  const dynamic = /(?<![\w.])import\(\s*["']([^"']+)["']\s*\)(?!\.[A-Z])/g;
  const localDir = join(ROOT, "local");
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of [...source.matchAll(statement), ...source.matchAll(dynamic)]) {
      const specifier = match[1] as string;
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(localDir)) pending.push(target);
      } else if (!specifier.startsWith("node:") && !builtinModules.includes(specifier)) {
        packages.add(packageOf(specifier));
      }
    }
  }
  return { packages, files };
}

const deployment = parseAllDocuments(installManifest())
  .map((doc) => doc.toJS())
  .find((object) => object?.kind === "Deployment");
const container = deployment.spec.template.spec.containers[0];

describe("Dockerfile", () => {
  it("is multi-stage: Node 24 to build, production dependencies apart, a distroless final stage", () => {
    const froms = dockerfile.match(/^FROM .*/gm) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=24$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(finalStage()[0]).toMatch(/^FROM gcr\.io\/distroless\/nodejs\$\{NODE_VERSION\}-debian12:nonroot$/);
  });

  it("runs as the numeric non-root user that the Deployment asks for", () => {
    const user = finalStage().find((line) => line.startsWith("USER "));
    expect(user).toBe(`USER ${RUN_AS}:${RUN_AS}`);
    expect(RUN_AS).toBeGreaterThan(0);
    expect(container.securityContext.runAsUser).toBe(RUN_AS);
    expect(deployment.spec.template.spec.securityContext.runAsUser).toBe(RUN_AS);
  });

  it("exposes the metrics and health ports the Deployment probes and scrapes", () => {
    const expose = finalStage().find((line) => line.startsWith("EXPOSE "));
    expect(expose?.split(/\s+/).slice(1).map(Number).sort()).toEqual(
      [INSTALL.metricsPort, INSTALL.healthPort].sort(),
    );
    expect(container.ports.map((port: { containerPort: number }) => port.containerPort).sort()).toEqual(
      [INSTALL.metricsPort, INSTALL.healthPort].sort(),
    );
  });

  it("runs the compiled operator: tsc writes operator/main.ts to out/operator/main.js as an ES module", () => {
    const entry = finalStage().find((line) => line.startsWith("ENTRYPOINT "));
    expect(entry).toContain('"out/operator/main.js"');
    expect(existsSync(join(ROOT, "operator/main.ts"))).toBe(true);
    expect(tsconfig.compilerOptions).toMatchObject({
      outDir: "out",
      rootDir: ".",
      rewriteRelativeImportExtensions: true,
    });
    expect(packageJson.type).toBe("module");
    expect(finalStage()).toContain("COPY --from=deps /src/package.json ./package.json");
  });

  it("keeps tests, build outputs and the git directory out of the build context, but not the sources", () => {
    for (const ignored of ["node_modules", ".git", "out", "test", ".modelkeys"]) {
      expect(dockerignore).toContain(ignored);
    }
    for (const needed of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "operator",
      "crds",
      "pulumi",
      "local",
    ]) {
      expect(dockerignore).not.toContain(needed);
    }
  });
});

describe("the image's entry point", () => {
  it("loads only production dependencies (tsx and the other devDependencies are not in the image)", () => {
    const { packages, files } = runtimePackages(join(ROOT, "operator/main.ts"));
    expect(files.size).toBeGreaterThan(10);
    const missing = [...packages].filter((name) => !(name in packageJson.dependencies));
    expect(missing, "imported at run time but not in dependencies").toEqual([]);
  });

  it("has nothing else in its production dependencies (cdk8s and the CLI tools are devDependencies)", () => {
    const { packages } = runtimePackages(join(ROOT, "operator/main.ts"));
    const unused = Object.keys(packageJson.dependencies).filter((name) => !packages.has(name));
    expect(unused, "in dependencies but never imported by the operator at run time").toEqual([]);
    for (const generatorOnly of ["cdk8s", "cdk8s-plus-27", "constructs", "cdk8s-cli", "tsx"]) {
      expect(packageJson.dependencies).not.toHaveProperty(generatorOnly);
    }
  });
});
