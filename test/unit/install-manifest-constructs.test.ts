// The typed constructs users author with: generated from our CRDs (and kept fresh), they synthesize
// objects that the zod schemas accept, cover every provider, and refuse bad specs at synth time.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Chart } from "cdk8s";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  ModelkeysAzureOpenAIAccount,
  ModelkeysConnection,
  type ModelkeysConnectionProps,
  ModelkeysOrganization,
} from "../../cdk8s/constructs.ts";
import { exampleApp } from "../../cdk8s/example.ts";
import { IMPORTS_DIR, importConstructs, MODULE } from "../../cdk8s/import.ts";
import {
  AzureOpenAIAccountSpec,
  OrganizationSpec,
  PROVIDER_BLOCK,
  PROVIDERS,
  type Provider,
  ProviderConnectionSpec,
} from "../../crds/index.ts";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

const parse = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);

const EXAMPLES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));

/** Every ProviderConnection of examples/*.yaml, to re-author through the construct. */
function exampleConnections(): Manifest[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => parse(readFileSync(join(EXAMPLES_DIR, file), "utf8")))
    .filter((object) => object.kind === "ProviderConnection");
}

/** The construct's props for an API spec: the provider's block under its API name. */
function propsOf(spec: ProviderConnectionSpec): ModelkeysConnectionProps {
  const block = PROVIDER_BLOCK[spec.provider];
  return {
    organization: spec.organizationRef.name,
    provider: spec.provider,
    [block]: spec[block],
    ...(spec.models ? { models: spec.models } : {}),
    ...(spec.deletionPolicy ? { deletionPolicy: spec.deletionPolicy } : {}),
    ...(spec.refreshInterval ? { refreshInterval: spec.refreshInterval } : {}),
  } as ModelkeysConnectionProps;
}

const newChart = (namespace = "team-a") => {
  const app = new App();
  return { app, chart: new Chart(app, "chart", { namespace, disableResourceNameHashes: true }) };
};

describe("cdk8s/imports", () => {
  it("is what `cdk8s import` generates from the committed CRDs", () => {
    const scratch = mkdtempSync(join(tmpdir(), "modelkeys-imports-test-"));
    try {
      importConstructs(scratch);
      const fresh = readFileSync(join(scratch, MODULE), "utf8");
      const committed = readFileSync(join(IMPORTS_DIR, MODULE), "utf8");
      expect(fresh === committed, "cdk8s/imports is stale: run `npm run generate` and commit it").toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("cdk8s/example.ts", () => {
  it("synthesizes an Organization and an OpenAI connection that the zod schemas accept", () => {
    const objects = parse(exampleApp().synthYaml());
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`)).toEqual([
      "modelkeys.dev/v1alpha1 Organization/acme",
      "modelkeys.dev/v1alpha1 ProviderConnection/openai",
    ]);
    const [organization, connection] = objects as [Manifest, Manifest];
    expect(OrganizationSpec.parse(organization.spec)).toMatchObject({
      url: "https://label-studio.acme.internal",
      tokenSecretRef: { name: "ls-admin", key: "token" },
    });
    expect(ProviderConnectionSpec.parse(connection.spec)).toMatchObject({
      organizationRef: { name: "acme" },
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
      models: ["gpt-4o", "gpt-4.1"],
    });
    for (const object of objects) expect(object.metadata.namespace).toBe("ml-platform");
  });
});

describe("ModelkeysAzureOpenAIAccount", () => {
  it("re-authors examples/azure-openai-account.yaml with the same spec, which the zod schema accepts", () => {
    const example = parse(readFileSync(join(EXAMPLES_DIR, "azure-openai-account.yaml"), "utf8")).find(
      (object) => object.kind === "AzureOpenAIAccount",
    );
    if (!example) throw new Error("no AzureOpenAIAccount in the example");
    const { app, chart } = newChart();
    const account = new ModelkeysAzureOpenAIAccount(chart, example.metadata.name, {
      spec: example.spec as never,
    });
    const [synthesized] = parse(app.synthYaml());
    expect(synthesized).toMatchObject({ kind: "AzureOpenAIAccount", metadata: { namespace: "team-a" } });
    expect(synthesized?.spec).toEqual(example.spec);
    expect(AzureOpenAIAccountSpec.safeParse(synthesized?.spec).success).toBe(true);
    expect(account.namespace).toBe("team-a");
  });

  it("fails synthesis with the field's path for a private range without the allow flag", () => {
    const { app, chart } = newChart();
    new ModelkeysAzureOpenAIAccount(chart, "bad", {
      spec: {
        accountName: "acme-ai",
        resourceGroupName: "rg",
        location: "eastus",
        networkRules: { ipRules: ["10.0.0.0/8"] },
      },
    });
    expect(() => app.synthYaml()).toThrow(
      /AzureOpenAIAccount bad: spec\.networkRules\.ipRules\.0: "10\.0\.0\.0\/8" overlaps the private or reserved range/,
    );
  });
});

describe("ModelkeysConnection", () => {
  const examples = exampleConnections();

  it("has an example for every provider to re-author", () => {
    const providers = new Set(examples.map((example) => example.spec.provider as Provider));
    expect([...providers].sort()).toEqual([...PROVIDERS].sort());
  });

  it.each(examples.map((example) => [example.metadata.name, example] as const))(
    "re-authors examples/ %s with the same spec, which the zod schema accepts",
    (_name, example) => {
      // The example as written (zod's parse would fill in defaults the YAML leaves out).
      const spec = example.spec as unknown as ProviderConnectionSpec;
      const { app, chart } = newChart();
      new ModelkeysConnection(chart, example.metadata.name, propsOf(spec));
      const [synthesized] = parse(app.synthYaml());
      expect(synthesized?.spec).toEqual(example.spec);
      expect(ProviderConnectionSpec.safeParse(synthesized?.spec).success).toBe(true);
    },
  );

  it("fails synthesis with the field's path when the spec breaks the schema", () => {
    const { app, chart } = newChart();
    new ModelkeysConnection(chart, "bad", {
      organization: "acme",
      provider: "Gemini",
      gemini: { apiKeySecretRef: { name: "gemini", key: "" } },
    });
    expect(() => app.synthYaml()).toThrow(/ProviderConnection bad: spec\.gemini\.apiKeySecretRef\.key/);
  });

  it("fails synthesis when its Organization lives in another namespace", () => {
    const { app, chart } = newChart("team-a");
    const other = new Chart(app, "other", { namespace: "team-b" });
    const organization = new ModelkeysOrganization(other, "acme", {
      url: "https://label-studio.acme.internal",
      tokenSecretRef: { name: "ls-admin", key: "token" },
    });
    new ModelkeysConnection(chart, "openai", {
      organization,
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
    });
    expect(() => app.synthYaml()).toThrow(
      /Organization acme is in namespace team-b, the connection in team-a/,
    );
  });

  it("lets the compiler reject a missing or a foreign provider block", () => {
    const { chart } = newChart();
    const key = { apiKeySecretRef: { name: "k", key: "v" } };
    // These only type-check as errors (`npm run lint` runs tsc); at runtime they never synthesize.
    const typeErrors = () => {
      // @ts-expect-error OpenAI needs its openAI block
      new ModelkeysConnection(chart, "missing", { organization: "acme", provider: "OpenAI" });
      new ModelkeysConnection(chart, "foreign", {
        organization: "acme",
        provider: "OpenAI",
        openAI: key,
        // @ts-expect-error a Gemini block on an OpenAI connection
        gemini: key,
      });
    };
    expect(typeof typeErrors).toBe("function");
  });
});

describe("ModelkeysOrganization", () => {
  it("fails synthesis with the field's path for a spec the schema rejects", () => {
    const { app, chart } = newChart();
    new ModelkeysOrganization(chart, "acme", {
      url: "https://label-studio.acme.internal",
      tokenSecretRef: { name: "ls-admin", key: "token" },
      organizationId: 0,
    });
    expect(() => app.synthYaml()).toThrow(/Organization acme: spec\.organizationId/);
  });
});
