// Adoption: when status has no record id (a crash between the app's create and the status write), the operator
// finds the matching record and adopts it instead of creating a duplicate. A record made by someone else for an
// organization-wide provider is adopted only when the Organization says so.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  deleteConnection,
  eventsFor,
  getConnection,
  patchOrganization,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-adoption-key-93c0d1";
const OLD_KEY = "canary-adoption-stale-5e8a44";
const OTHER_TOKEN = "canary-adoption-other-owner-7d21";

let namespace: string;
let operator: TestOperator;
/** One app per scenario, so each starts from an empty organization. */
const worlds: AppWithOwner[] = [];

async function world(organization: string, spec: Record<string, unknown> = {}): Promise<AppWithOwner> {
  const w = await startAppWithOwner();
  worlds.push(w);
  await createOrganization(namespace, organization, w.app.url, w.token, spec);
  return w;
}

const posts = (w: AppWithOwner) =>
  w.app.state.requests.filter((r) => r.method === "POST" && r.path === "/api/model-provider-connections/");
const waitForEvent = (name: string, reason: string) =>
  waitFor(async () => (await eventsFor(namespace, name)).find((line) => line.includes(` ${reason}:`)), {
    description: `a ${reason} Event for ${name}`,
  });

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("adoption");
  await putSecret(namespace, "cred", { "api-key": KEY });
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    if (operator) {
      const tokens = worlds.map((w) => w.token);
      await expectNoLeaks({ namespace, operator, secrets: [KEY, OLD_KEY, OTHER_TOKEN, ...tokens] });
    }
  } finally {
    await operator?.stop();
    for (const w of worlds) await w.app.stop();
  }
});

describe("after a crash between the app's create and the status write", () => {
  it("adopts its own OpenAI record instead of creating a second one", async () => {
    const w = await world("crash");
    // What the lost reconcile left behind: the record exists, made by the operator's user, status knows nothing.
    const left = w.app.state.createConnection(
      1,
      { provider: "OpenAI", scope: "Organization", api_key: OLD_KEY },
      w.userId,
    );
    await createConnection(namespace, "openai", {
      organizationRef: { name: "crash" },
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name: "cred", key: "api-key" } },
    });
    const c = await waitForCondition(namespace, "openai", "Ready", "True");
    expect(c.status?.appConnectionId).toBe(left.id);
    expect(w.app.state.listConnections()).toHaveLength(1);
    expect(posts(w)).toEqual([]);
    // Adopting pushes the key: what the app held before is unknown to the operator.
    expect(w.app.state.getConnection(left.id)?.secrets.api_key).toBe(KEY);
    expect(await waitForEvent("openai", "Adopted")).toContain(String(left.id));
  });

  it("adopts the record when the app's answer to its create was lost (no duplicate)", async () => {
    const w = await world("lost-answer");
    // The app applies the create, then the connection drops before the 201 reaches the operator.
    w.app.state.injectFault({
      match: { method: "POST", path: "/api/model-provider-connections/" },
      kind: "drop",
      afterHandling: true,
    });
    await createConnection(namespace, "gemini", {
      organizationRef: { name: "lost-answer" },
      provider: "Gemini",
      gemini: { apiKeySecretRef: { name: "cred", key: "api-key" } },
    });
    const c = await waitForCondition(namespace, "gemini", "Ready", "True");
    const records = w.app.state.listConnections();
    expect(records).toHaveLength(1);
    expect(c.status?.appConnectionId).toBe(records[0]?.id);
    expect(posts(w).map((r) => r.fault)).toEqual(["drop"]);
    expect(await waitForEvent("gemini", "Adopted")).toContain(String(records[0]?.id));
  });

  it("matches a per-model record by deployment and endpoint (Custom)", async () => {
    const w = await world("custom");
    const state = w.app.state;
    const elsewhere = state.createConnection(
      1,
      { provider: "Custom", scope: "Model", deployment_name: "llama3.1", endpoint: "http://a.internal/v1" },
      w.userId,
    );
    const otherModel = state.createConnection(
      1,
      { provider: "Custom", scope: "Model", deployment_name: "mistral", endpoint: "http://b.internal/v1" },
      w.userId,
    );
    const mine = state.createConnection(
      1,
      { provider: "Custom", scope: "Model", deployment_name: "llama3.1", endpoint: "http://b.internal/v1" },
      w.userId,
    );
    await createConnection(namespace, "llama", {
      organizationRef: { name: "custom" },
      provider: "Custom",
      custom: {
        name: "llama3.1",
        endpoint: "http://b.internal/v1",
        apiKeySecretRef: { name: "cred", key: "api-key" },
      },
    });
    const c = await waitForCondition(namespace, "llama", "Ready", "True");
    expect(c.status?.appConnectionId).toBe(mine.id);
    expect(posts(w)).toEqual([]);
    expect(state.listConnections().map((r) => r.id)).toEqual([elsewhere.id, otherModel.id, mine.id]);
    // The records of other models and servers are untouched.
    const touched = state.requests.filter((r) => r.method !== "GET").map((r) => r.path);
    expect(touched).toEqual([`/api/model-provider-connections/${mine.id}/`]);
  });

  it("matches a per-model record by deployment and endpoint (AzureOpenAI), and creates when none matches", async () => {
    const w = await world("azure");
    const state = w.app.state;
    const endpoint = "https://acme.openai.azure.com/";
    const existing = state.createConnection(
      1,
      { provider: "AzureOpenAI", scope: "Model", deployment_name: "gpt4o-prod", endpoint },
      w.userId,
    );
    await createConnection(namespace, "azure-prod", {
      organizationRef: { name: "azure" },
      provider: "AzureOpenAI",
      azure: { deployment: "gpt4o-prod", endpoint, apiKeySecretRef: { name: "cred", key: "api-key" } },
    });
    await createConnection(namespace, "azure-next", {
      organizationRef: { name: "azure" },
      provider: "AzureOpenAI",
      azure: { deployment: "gpt4o-next", endpoint, apiKeySecretRef: { name: "cred", key: "api-key" } },
    });
    const prod = await waitForCondition(namespace, "azure-prod", "Ready", "True");
    const next = await waitForCondition(namespace, "azure-next", "Ready", "True");
    expect(prod.status?.appConnectionId).toBe(existing.id);
    expect(next.status?.appConnectionId).not.toBe(existing.id);
    expect(posts(w).map((r) => (r.body as { deployment_name?: string }).deployment_name)).toEqual([
      "gpt4o-next",
    ]);
    expect(state.listConnections()).toHaveLength(2);
  });
});

describe("a record another connection holds", () => {
  it("is never adopted: a second connection for the same model gets its own record", async () => {
    const w = await world("twins");
    const custom = {
      name: "qwen",
      endpoint: "http://twins.internal/v1",
      apiKeySecretRef: { name: "cred", key: "api-key" },
    };
    await createConnection(namespace, "twin-a", {
      organizationRef: { name: "twins" },
      provider: "Custom",
      custom,
    });
    const a = await waitForCondition(namespace, "twin-a", "Ready", "True");
    await createConnection(namespace, "twin-b", {
      organizationRef: { name: "twins" },
      provider: "Custom",
      custom,
    });
    const b = await waitForCondition(namespace, "twin-b", "Ready", "True");
    expect(b.status?.appConnectionId).not.toBe(a.status?.appConnectionId);
    expect(w.app.state.listConnections()).toHaveLength(2);

    // Deleting one leaves the other's record alone.
    await deleteConnection(namespace, "twin-b");
    await waitFor(async () => (await getConnection(namespace, "twin-b")) === undefined, {
      description: "twin-b deleted",
    });
    expect(w.app.state.getConnection(a.status?.appConnectionId as number)).toBeDefined();
    expect(w.app.state.listConnections()).toHaveLength(1);
  });
});

describe("an OpenAI record made by hand by another user", () => {
  it("is not taken over: ExistsInApp", async () => {
    const w = await world("handmade");
    const other = w.app.state.addUser({ role: "owner", organization: 1, legacyToken: OTHER_TOKEN });
    const handmade = w.app.state.createConnection(1, { provider: "OpenAI", scope: "Organization" }, other.id);
    await createConnection(namespace, "openai-handmade", {
      organizationRef: { name: "handmade" },
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name: "cred", key: "api-key" } },
    });
    const c = await waitForCondition(namespace, "openai-handmade", "Ready", "False", "ExistsInApp");
    expect(c.status?.conditions?.find((x) => x.type === "Ready")?.message).toContain(`id ${handmade.id}`);
    expect(c.status?.appConnectionId).toBeUndefined();
    expect(w.app.state.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(w.app.state.getConnection(handmade.id)?.secrets.api_key).toBeNull();
    await waitForEvent("openai-handmade", "ExistsInApp");
  });

  it("is adopted once the Organization sets spec.adoptExisting", async () => {
    const w = worlds.at(-1) as AppWithOwner;
    const handmade = w.app.state.listConnections()[0];
    await patchOrganization(namespace, "handmade", { spec: { adoptExisting: true } });
    const c = await waitForCondition(namespace, "openai-handmade", "Ready", "True");
    expect(c.status?.appConnectionId).toBe(handmade?.id);
    expect(w.app.state.listConnections()).toHaveLength(1);
    expect(posts(w)).toEqual([]);
    expect(w.app.state.getConnection(handmade?.id as number)?.secrets.api_key).toBe(KEY);
    await waitForEvent("openai-handmade", "Adopted");
  });
});
