// What users see from kubectl: the printer columns of both kinds, the short names, the category, and
// `kubectl explain` text that comes from the zod schemas' descriptions.
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type TestCluster, testCluster } from "../support/cluster.ts";

let cluster: TestCluster;
let namespace: string;

/** Runs kubectl as admin and returns what it printed; a failure fails the test with kubectl's message. */
const kubectl = async (args: string[], input?: string) => {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
};

/** The words of the header line of a `kubectl get` table. */
const header = (table: string) => (table.split("\n")[0] ?? "").trim().split(/\s+/);
/** The cells of the row whose first cell is `name` (cells never contain spaces here). */
const row = (table: string, name: string) =>
  table
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .find((cells) => cells[0] === name);

/** kubectl explain wraps its text: compare with the whitespace collapsed. */
const explain = async (field: string) => (await kubectl(["explain", field])).replace(/\s+/g, " ");

const FINGERPRINT = "sha256:3f2a9c1b7e40";

beforeAll(async () => {
  cluster = testCluster();
  namespace = await cluster.createTestNamespace("printer-columns");
  const objects = [
    {
      apiVersion: "modelkeys.dev/v1alpha1",
      kind: "Organization",
      metadata: { name: "acme", namespace },
      spec: { url: "https://label-studio.acme.internal", tokenSecretRef: { name: "ls", key: "token" } },
    },
    {
      apiVersion: "modelkeys.dev/v1alpha1",
      kind: "ProviderConnection",
      metadata: { name: "openai", namespace },
      spec: {
        organizationRef: { name: "acme" },
        provider: "OpenAI",
        openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
      },
    },
  ];
  await kubectl(["apply", "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
  // The status subresource is how the operator reports; the columns read from it.
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const ROTATED_95_DAYS_AGO = new Date(Date.now() - 95 * 86_400_000 - 3_600_000)
    .toISOString()
    .replace(/\.\d+Z$/, "Z");
  const ready = {
    type: "Ready",
    status: "True",
    reason: "Synced",
    message: "in sync",
    lastTransitionTime: now,
  };
  await kubectl([
    "patch",
    "providerconnection",
    "openai",
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        scope: "Organization",
        availableModels: 2,
        credentialFingerprint: FINGERPRINT,
        credentialRotatedTime: ROTATED_95_DAYS_AGO,
        conditions: [ready],
      },
    }),
  ]);
  await kubectl([
    "patch",
    "organization.modelkeys.dev",
    "acme",
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({
      status: {
        organizationId: 3,
        app: { reportedTime: now, managed: 4, unmanaged: 2, changed: 0, offLimits: 1 },
        conditions: [ready],
      },
    }),
  ]);
});

describe("kubectl get providerconnections", () => {
  it("shows Provider, Organization, Scope, Models, Ready, Reason, Key, Rotated (as an age) and Age", async () => {
    const table = await kubectl(["get", "providerconnections", "-n", namespace]);
    expect(header(table)).toEqual([
      "NAME",
      "PROVIDER",
      "ORGANIZATION",
      "SCOPE",
      "MODELS",
      "READY",
      "REASON",
      "KEY",
      "ROTATED",
      "AGE",
    ]);
    expect(row(table, "openai")?.slice(0, 8)).toEqual([
      "openai",
      "OpenAI",
      "acme",
      "Organization",
      "2",
      "True",
      "Synced",
      FINGERPRINT,
    ]);
    // A date column: kubectl prints how long ago (the key was rotated 95 days before the test).
    expect(row(table, "openai")?.[8]).toBe("95d");
  });

  it("answers to the short name pconn, and to the modelkeys category", async () => {
    // The CRD also declares `pc`, but kubectl resolves `pc` to the built-in PriorityClass first.
    const table = await kubectl(["get", "pconn", "-n", namespace]);
    expect(header(table)).toContain("PROVIDER");
    expect(row(table, "openai")?.[1]).toBe("OpenAI");
    const all = await kubectl(["get", "modelkeys", "-n", namespace, "-o", "name"]);
    expect(all.split("\n").filter(Boolean).sort()).toEqual([
      "organization.modelkeys.dev/acme",
      "providerconnection.modelkeys.dev/openai",
    ]);
  });

  it("selects by provider with a field selector", async () => {
    const openai = await kubectl([
      "get",
      "pconn",
      "-n",
      namespace,
      "--field-selector",
      "spec.provider=OpenAI",
      "-o",
      "name",
    ]);
    expect(openai.trim()).toBe("providerconnection.modelkeys.dev/openai");
    const gemini = await kubectl([
      "get",
      "pconn",
      "-n",
      namespace,
      "--field-selector",
      "spec.provider=Gemini",
      "-o",
      "name",
    ]);
    expect(gemini.trim()).toBe("");
  });
});

describe("kubectl get organizations", () => {
  it("shows URL, OrgID, Ready, Managed, Unmanaged and Age", async () => {
    const table = await kubectl(["get", "organizations", "-n", namespace]);
    expect(header(table)).toEqual(["NAME", "URL", "ORGID", "READY", "MANAGED", "UNMANAGED", "AGE"]);
    expect(row(table, "acme")?.slice(0, 6)).toEqual([
      "acme",
      "https://label-studio.acme.internal",
      "3",
      "True",
      "4",
      "2",
    ]);
  });

  it("answers to the short name lsorg, with the Ready reason under -o wide", async () => {
    const table = await kubectl(["get", "lsorg", "-n", namespace, "-o", "wide"]);
    expect(header(table)).toContain("REASON");
    expect(row(table, "acme")).toContain("Synced");
  });
});

describe("kubectl explain", () => {
  it("describes spec.provider from the zod schema", async () => {
    const text = await explain("providerconnection.spec.provider");
    expect(text).toContain("DESCRIPTION: The model provider. Immutable.");
    expect(text).toMatch(/ENUM: OpenAI Gemini VertexAI Anthropic AzureOpenAI AzureAIFoundry Custom/);
  });

  it("describes the kind and its spec", async () => {
    expect(await explain("pconn")).toContain("One model-provider connection of a Label Studio organization");
    expect(await explain("pconn.spec")).toContain("exactly that provider's block of Secret references");
    expect(await explain("pconn.spec.vertexAI")).toContain("Set exactly when provider is VertexAI");
  });
});
