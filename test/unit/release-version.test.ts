// One version for the release: package.json's, read by operator/version.ts, is the operator's `--version`,
// the image tag of the install manifest, the npm packages' version and the CHANGELOG's newest entry.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { installManifest } from "../../cdk8s/install.ts";
import { IMAGE, IMAGE_REPOSITORY, RELEASE_VERSION } from "../../operator/version.ts";
import { packageDirs, publishedManifest } from "../../packages/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const rootManifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe("the release version", () => {
  it("is package.json's, a semver", () => {
    expect(RELEASE_VERSION).toBe(rootManifest.version);
    expect(RELEASE_VERSION).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it("tags the image that the install manifest deploys (generated and committed alike)", () => {
    expect(IMAGE).toBe(`${IMAGE_REPOSITORY}:${RELEASE_VERSION}`);
    for (const manifest of [installManifest(), readFileSync(join(ROOT, "dist/install.yaml"), "utf8")]) {
      const deployment = parseAllDocuments(manifest)
        .map((doc) => doc.toJS())
        .find((object) => object?.kind === "Deployment");
      expect(deployment.spec.template.spec.containers[0].image).toBe(IMAGE);
    }
  });

  it("heads the CHANGELOG", () => {
    const changelog = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8");
    expect(changelog.match(/^## \[?(\S+?)\]?(?:\s|$)/m)?.[1]).toBe(RELEASE_VERSION);
  });

  it("is what `--version` prints, before any configuration is read", () => {
    const printed = execFileSync(process.execPath, ["--import", "tsx", "operator/main.ts", "--version"], {
      cwd: ROOT,
      encoding: "utf8",
      // A setting the configuration would refuse: --version answers before it is parsed.
      env: { ...process.env, MODELKEYS_CONCURRENCY: "not-a-number" },
    });
    expect(printed).toBe(`modelkeys ${RELEASE_VERSION}\n`);
    // Loading the whole operator through tsx takes seconds on a busy machine.
  }, 60_000);
});

describe("the npm packages", () => {
  const templates = packageDirs().map((dir) => ({
    dir,
    template: JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8")),
  }));

  it("are published at the release version, our own dependencies pinned to it", () => {
    for (const { template } of templates) {
      const manifest = publishedManifest(template) as Record<string, Record<string, string> | string>;
      expect(manifest.version).toBe(RELEASE_VERSION);
      expect(manifest).not.toHaveProperty("modelkeys");
      const ours = Object.entries({
        ...(manifest.dependencies as object),
        ...(manifest.peerDependencies as object),
      })
        .filter(([name]) => name.startsWith("@modelkeys/"))
        .map(([, range]) => range);
      for (const range of ours) expect(range).toBe(RELEASE_VERSION);
    }
  });

  it("ask for the same ranges of third-party packages as the repository is tested with", () => {
    const tested = { ...rootManifest.devDependencies, ...rootManifest.dependencies };
    for (const { dir, template } of templates) {
      for (const [name, range] of Object.entries({
        ...template.dependencies,
        ...template.peerDependencies,
      })) {
        if (name.startsWith("@modelkeys/")) continue;
        expect(`${dir}: ${name}@${range}`).toBe(`${dir}: ${name}@${tested[name]}`);
      }
    }
  });

  it("are ES modules with types, an exports map, a file list, an engine and a README", () => {
    for (const { dir, template } of templates) {
      expect(template.name).toMatch(/^@modelkeys\//);
      expect(template.type).toBe("module");
      expect(template.exports["."]).toMatchObject({ types: expect.stringMatching(/\.d\.ts$/) });
      expect(template.files).toContain("dist");
      expect(template.engines.node).toBe(
        JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).engines.node,
      );
      expect(readFileSync(join(ROOT, "packages", dir, "README.md"), "utf8")).toMatch(
        /npm install @modelkeys\//,
      );
    }
  });
});
