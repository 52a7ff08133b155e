// The API server itself enforces the CRDs' schemas and CEL rules: every example is accepted, each invalid
// manifest is rejected with a message naming the field, and provider and organizationRef cannot change.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { type TestCluster, testCluster } from "../support/cluster.ts";

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };
type Spec = Record<string, unknown>;

const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));
const exampleFiles = readdirSync(examplesDir)
  .filter((file) => file.endsWith(".yaml"))
  .sort();
const EXAMPLES_NAMESPACE = "modelkeys-examples";

let cluster: TestCluster;
let namespace: string;

/** Runs kubectl as admin: whether it succeeded, and everything it printed. */
async function attempt(args: string[], input?: string): Promise<{ ok: boolean; output: string }> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  return { ok: result.code === 0, output: `${result.stdout}${result.stderr}` };
}

/** Submits manifests with a server-side dry run: the API server validates them but stores nothing. */
const dryRun = (manifests: Manifest[]) =>
  attempt(["apply", "--dry-run=server", "-f", "-"], manifests.map((m) => stringify(m)).join("---\n"));
const apply = (manifest: Manifest) => attempt(["apply", "-f", "-"], stringify(manifest));

const secretRef = { name: "provider-key", key: "api-key" };

/** A valid ProviderConnection with `spec` merged over an OpenAI one; `null` removes a field. */
function connection(spec: Spec = {}, name = "conn"): Manifest {
  const merged: Spec = {
    organizationRef: { name: "acme" },
    provider: "OpenAI",
    openAI: { apiKeySecretRef: secretRef },
  };
  for (const [key, value] of Object.entries(spec)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: { name, namespace },
    spec: merged,
  };
}

/** A connection of another provider: its block replaces openAI. */
const provider = (name: string, block: string, value: unknown, extra: Spec = {}) =>
  connection({ provider: name, openAI: null, [block]: value, ...extra });

const azure = (value: Spec) => provider("AzureOpenAI", "azure", value);
const foundry = (value: Spec) => provider("AzureAIFoundry", "azureAIFoundry", value);
const custom = (value: Spec) => provider("Custom", "custom", value);
const azureExisting = {
  deployment: "gpt-4o",
  endpoint: "https://acme.openai.azure.com/",
  apiKeySecretRef: secretRef,
};
const provision = (extra: Spec = {}) => ({
  accountRef: { name: "acme-ai" },
  deployment: { model: "gpt-4o", version: "2024-11-20" },
  ...extra,
});

function organization(spec: Spec = {}): Manifest {
  const merged: Spec = {
    url: "https://label-studio.acme.internal",
    tokenSecretRef: { name: "ls", key: "token" },
  };
  for (const [key, value] of Object.entries(spec)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "Organization",
    metadata: { name: "acme", namespace },
    spec: merged,
  };
}

const long = (length: number) => "a".repeat(length);

/** Each invalid manifest, and what the API server's answer must contain (the field, and the reason). */
const invalid: { name: string; manifest: () => Manifest; field: string; says: RegExp }[] = [
  {
    name: "no spec",
    manifest: () => {
      const { spec: _, ...rest } = connection();
      return rest as Manifest;
    },
    field: "spec",
    says: /Required value/,
  },
  {
    name: "no organizationRef",
    manifest: () => connection({ organizationRef: null }),
    field: "spec.organizationRef",
    says: /Required/,
  },
  {
    name: "the provider's block missing",
    manifest: () => connection({ openAI: null }),
    field: "spec.openAI",
    says: /required when spec.provider is OpenAI/,
  },
  {
    name: "another provider's block present",
    manifest: () => connection({ gemini: { apiKeySecretRef: secretRef } }),
    field: "spec.gemini",
    says: /must not be set when spec.provider is OpenAI/,
  },
  {
    name: "a Gemini connection carrying the OpenAI block instead",
    manifest: () => connection({ provider: "Gemini" }),
    field: "spec.gemini",
    says: /required when spec.provider is Gemini/,
  },
  {
    name: "a VertexAI connection without its credentials reference",
    manifest: () => provider("VertexAI", "vertexAI", { projectId: "acme" }),
    field: "spec.vertexAI.credentialsSecretRef",
    says: /Required/,
  },
  {
    name: "an OpenAI block without its Secret reference",
    manifest: () => connection({ openAI: {} }),
    field: "spec.openAI.apiKeySecretRef",
    says: /Required/,
  },
  {
    name: "an API key inlined instead of referenced",
    manifest: () => connection({ openAI: { apiKeySecretRef: secretRef, apiKey: "sk-inline" } }),
    field: "spec.openAI.apiKey",
    says: /unknown field/,
  },
  {
    name: "an empty Secret key",
    manifest: () => connection({ openAI: { apiKeySecretRef: { name: "openai", key: "" } } }),
    field: "spec.openAI.apiKeySecretRef.key",
    says: /at least 1 chars/,
  },
  {
    name: "an empty Secret name",
    manifest: () => provider("Anthropic", "anthropic", { apiKeySecretRef: { name: "", key: "api-key" } }),
    field: "spec.anthropic.apiKeySecretRef.name",
    says: /at least 1 chars/,
  },
  {
    name: "a Secret name that is not a DNS subdomain",
    manifest: () => provider("Gemini", "gemini", { apiKeySecretRef: { name: "Gemini_Key", key: "api-key" } }),
    field: "spec.gemini.apiKeySecretRef.name",
    says: /should match/,
  },
  {
    name: "an http endpoint for Azure OpenAI",
    manifest: () => azure({ ...azureExisting, endpoint: "http://acme.openai.azure.com/" }),
    field: "spec.azure.endpoint",
    says: /must be an https URL/,
  },
  {
    name: "an http endpoint for Azure AI Foundry",
    manifest: () => foundry({ ...azureExisting, endpoint: "http://acme.services.ai.azure.com/models" }),
    field: "spec.azureAIFoundry.endpoint",
    says: /must be an https URL/,
  },
  {
    name: "an Azure endpoint without a host",
    manifest: () => azure({ ...azureExisting, endpoint: "https://" }),
    field: "spec.azure.endpoint",
    says: /must be an https URL/,
  },
  {
    name: "a custom endpoint that is not a URL",
    manifest: () => custom({ name: "llama", endpoint: "ollama:11434/v1" }),
    field: "spec.custom.endpoint",
    says: /must be an http or https URL/,
  },
  {
    name: "a custom endpoint of another scheme",
    manifest: () => custom({ name: "llama", endpoint: "ftp://ollama/v1" }),
    field: "spec.custom.endpoint",
    says: /must be an http or https URL/,
  },
  {
    name: "a custom connection without its model name",
    manifest: () => custom({ endpoint: "http://ollama:11434/v1" }),
    field: "spec.custom.name",
    says: /Required/,
  },
  {
    name: "a custom auth token reference with an empty key",
    manifest: () =>
      custom({
        name: "llama",
        endpoint: "http://ollama:11434/v1",
        authTokenSecretRef: { name: "tok", key: "" },
      }),
    field: "spec.custom.authTokenSecretRef.key",
    says: /at least 1 chars/,
  },
  {
    name: "a deployment name longer than 512 characters",
    manifest: () => azure({ ...azureExisting, deployment: long(513) }),
    field: "spec.azure.deployment",
    says: /Too long|at most 512/,
  },
  {
    name: "an endpoint longer than 512 characters",
    manifest: () =>
      foundry({ ...azureExisting, endpoint: `https://acme.services.ai.azure.com/${long(490)}` }),
    field: "spec.azureAIFoundry.endpoint",
    says: /Too long|at most 512/,
  },
  {
    name: "a deployment name with a space",
    manifest: () => foundry({ ...azureExisting, deployment: "gpt 4o" }),
    field: "spec.azureAIFoundry.deployment",
    says: /should match/,
  },
  {
    name: "an unknown provider",
    manifest: () => connection({ provider: "Mistral" }),
    field: "spec.provider",
    says: /Unsupported value: "Mistral"/,
  },
  {
    name: "no provider",
    manifest: () => connection({ provider: null }),
    field: "spec.provider",
    says: /Required/,
  },
  {
    name: "an empty organizationRef name",
    manifest: () => connection({ organizationRef: { name: "" } }),
    field: "spec.organizationRef.name",
    says: /at least 1 chars/,
  },
  {
    name: "an unknown deletionPolicy",
    manifest: () => connection({ deletionPolicy: "Retain" }),
    field: "spec.deletionPolicy",
    says: /Unsupported value: "Retain"/,
  },
  {
    name: "a refreshInterval that is not a duration",
    manifest: () => connection({ refreshInterval: "1 hour" }),
    field: "spec.refreshInterval",
    says: /should match/,
  },
  {
    name: "models that are not a list",
    manifest: () => connection({ models: "gpt-4o" }),
    field: "spec.models",
    says: /must be of type array/,
  },
  {
    name: "more than 64 models",
    manifest: () => connection({ models: Array.from({ length: 65 }, (_, i) => `model-${i}`) }),
    field: "spec.models",
    says: /Too many|at most 64/,
  },
  {
    name: "an empty model name",
    manifest: () => connection({ models: ["gpt-4o", ""] }),
    field: "spec.models[1]",
    says: /at least 1 chars/,
  },
  {
    name: "Azure provision together with an endpoint",
    manifest: () => azure({ endpoint: azureExisting.endpoint, provision: provision() }),
    field: "spec.azure.endpoint",
    says: /must not be set together with provision/,
  },
  {
    name: "an Azure block with neither a deployment nor provision",
    manifest: () => azure({ endpoint: azureExisting.endpoint, apiKeySecretRef: secretRef }),
    field: "spec.azure.deployment",
    says: /required unless provision is set/,
  },
  {
    name: "a provisioned connection that names no account",
    manifest: () => azure({ provision: { deployment: { model: "gpt-4o", version: "2024-11-20" } } }),
    field: "spec.azure.provision.accountRef",
    says: /Required/,
  },
  {
    name: "a provisioned connection that carries the account inline (the block v1alpha1 no longer has)",
    manifest: () => azure({ provision: provision({ account: { name: "acme-ai", resourceGroup: "rg" } }) }),
    field: "spec.azure.provision.account",
    says: /unknown field|field not declared in schema/,
  },
  {
    name: "a provisioned deployment name longer than Azure's 64 characters",
    manifest: () =>
      azure({
        provision: provision({
          deployment: { name: "d".repeat(65), model: "gpt-4o", version: "2024-11-20" },
        }),
      }),
    field: "spec.azure.provision.deployment.name",
    says: /at most 64|Too long|64/,
  },
  {
    name: "a provisioned deployment without a model version",
    manifest: () => azure({ provision: { ...provision(), deployment: { model: "gpt-4o" } } }),
    field: "spec.azure.provision.deployment.version",
    says: /Required/,
  },
  {
    name: "a provisioned deployment of zero capacity",
    manifest: () =>
      azure({
        provision: { ...provision(), deployment: { model: "gpt-4o", version: "1", sku: { capacity: 0 } } },
      }),
    field: "spec.azure.provision.deployment.sku.capacity",
    says: /greater than or equal to 1/,
  },
  {
    name: "an Organization pinned to organizationId 0",
    manifest: () => organization({ organizationId: 0 }),
    field: "spec.organizationId",
    says: /greater than or equal to 1/,
  },
  {
    name: "an Organization whose url is not a URL",
    manifest: () => organization({ url: "label-studio.acme.internal" }),
    field: "spec.url",
    says: /must be an http or https URL/,
  },
  {
    name: "an Organization whose url has another scheme",
    manifest: () => organization({ url: "ftp://label-studio.acme.internal" }),
    field: "spec.url",
    says: /must be an http or https URL/,
  },
  {
    name: "an Organization without a token reference",
    manifest: () => organization({ tokenSecretRef: null }),
    field: "spec.tokenSecretRef",
    says: /Required/,
  },
  {
    name: "an Organization token reference with an empty key",
    manifest: () => organization({ tokenSecretRef: { name: "ls", key: "" } }),
    field: "spec.tokenSecretRef.key",
    says: /at least 1 chars/,
  },
  {
    name: "an Organization CA reference with an empty name",
    manifest: () => organization({ tls: { caSecretRef: { name: "", key: "ca.crt" } } }),
    field: "spec.tls.caSecretRef.name",
    says: /at least 1 chars/,
  },
];

beforeAll(async () => {
  cluster = testCluster();
  namespace = await cluster.createTestNamespace("api-validation");
});

describe("the example manifests", () => {
  it.each(exampleFiles)("%s is accepted by the API server", async (file) => {
    const manifests = parseAllDocuments(readFileSync(`${examplesDir}${file}`, "utf8"))
      .map((doc) => doc.toJS() as Manifest)
      // The examples' own namespace may not exist here: check namespaced objects in this test's namespace.
      .map((m) => (m.kind === "Namespace" ? m : { ...m, metadata: { ...m.metadata, namespace } }));
    const result = await dryRun(manifests);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).not.toMatch(/error|invalid|warning/i);
    for (const m of manifests)
      expect(result.output).toMatch(new RegExp(`/${m.metadata.name} \\w+ \\(server dry run\\)`));
  });

  it("all live in the modelkeys-examples namespace that examples/namespace.yaml creates", () => {
    const text = readFileSync(`${examplesDir}namespace.yaml`, "utf8");
    expect(text).toContain(`name: ${EXAMPLES_NAMESPACE}`);
  });
});

describe("an invalid manifest", () => {
  it("table has at least 25 cases", () => {
    expect(invalid.length).toBeGreaterThanOrEqual(25);
  });

  it.each(invalid)("is rejected: $name", async ({ manifest, field, says }) => {
    const result = await dryRun([manifest()]);
    expect(result.ok, result.output).toBe(false);
    // The field must appear as a path, not as part of a longer one (spec.models, not spec.modelsX).
    expect(result.output).toMatch(new RegExp(`(^|[\\s"*])${field.replace(/[.[\]]/g, "\\$&")}(:|")`, "m"));
    expect(result.output).toMatch(says);
  });
});

describe("an existing ProviderConnection", () => {
  const name = "immutable";

  beforeAll(async () => {
    const created = await apply(connection({}, name));
    expect(created.ok, created.output).toBe(true);
  });

  const patch = (body: unknown) =>
    attempt([
      "patch",
      "providerconnection",
      name,
      "-n",
      namespace,
      "--type=merge",
      "-p",
      JSON.stringify(body),
    ]);

  it("gets the defaults for deletionPolicy and refreshInterval", async () => {
    const read = await attempt(["get", "providerconnection", name, "-n", namespace, "-o", "json"]);
    expect(read.ok, read.output).toBe(true);
    expect(JSON.parse(read.output).spec).toMatchObject({ deletionPolicy: "Delete", refreshInterval: "1h" });
  });

  it("rejects a change of spec.provider", async () => {
    const result = await patch({
      spec: { provider: "Gemini", openAI: null, gemini: { apiKeySecretRef: secretRef } },
    });
    expect(result.ok, result.output).toBe(false);
    expect(result.output).toMatch(/spec\.provider: Invalid value: "string": provider is immutable/);
  });

  it("rejects a change of spec.organizationRef", async () => {
    const result = await patch({ spec: { organizationRef: { name: "other" } } });
    expect(result.ok, result.output).toBe(false);
    expect(result.output).toMatch(
      /spec\.organizationRef: Invalid value: "object": organizationRef is immutable/,
    );
  });

  it("accepts a change of the mutable fields", async () => {
    const result = await patch({
      spec: { models: ["gpt-4o"], deletionPolicy: "Orphan", openAI: { apiKeySecretRef: { key: "rotated" } } },
    });
    expect(result.ok, result.output).toBe(true);
    const read = await attempt(["get", "providerconnection", name, "-n", namespace, "-o", "json"]);
    expect(JSON.parse(read.output).spec).toMatchObject({
      provider: "OpenAI",
      models: ["gpt-4o"],
      deletionPolicy: "Orphan",
      openAI: { apiKeySecretRef: { name: secretRef.name, key: "rotated" } },
    });
  });
});
