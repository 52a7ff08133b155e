// The committed Helm chart is what the generator makes from the cdk8s install, and its values have one home each.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHART_DIR, helmChart } from "../../cdk8s/helm-chart.ts";

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );

describe("dist/chart/modelkeys", () => {
  const generated = helmChart();

  it("is current: run `npm run synth` and commit it when this fails", () => {
    const committed = Object.fromEntries(
      filesUnder(CHART_DIR).map((path) => [relative(CHART_DIR, path), readFileSync(path, "utf8")]),
    );
    expect(Object.keys(committed).sort()).toEqual(Object.keys(generated).sort());
    for (const [path, content] of Object.entries(generated)) expect(committed[path], path).toBe(content);
  });

  it("keeps the CRDs in crds/, where Helm installs them before the templates and never templates them", () => {
    const crds = Object.keys(generated).filter((path) => path.startsWith("crds/"));
    expect(crds.sort()).toEqual([
      "crds/azureopenaiaccounts.modelkeys.dev.yaml",
      "crds/organizations.modelkeys.dev.yaml",
      "crds/providerconnections.modelkeys.dev.yaml",
    ]);
    for (const path of crds) expect(generated[path]).not.toContain("{{");
  });

  it("offers the values the issue lists, each defaulting to what dist/install.yaml deploys", () => {
    const values = parse(generated["values.yaml"] ?? "");
    expect(values).toMatchObject({
      image: {
        repository: "ghcr.io/modelkeys/operator",
        tag: "0.1.0",
        digest: "",
        pullPolicy: "IfNotPresent",
        pullSecrets: [],
      },
      replicas: 2,
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      podAnnotations: {},
      watchNamespaces: [],
      azureProvisioning: { enabled: true },
      logLevel: "info",
      pulumi: {
        backendUrl: "",
        passphraseSecret: { name: "modelkeys-pulumi", key: "passphrase" },
      },
      networkPolicy: { enabled: false },
    });
    expect(values.resources).toHaveProperty("limits");
  });
});
