// Records the operator never touches: the app's internal records and records of scope User (a user's own key).
// Adoption, one connection per organization, drift correction and deletion all leave them alone, even with
// adoptExisting: true and even when the operator's own user made them.
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
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-not-ours-key-4b7e19";
const INTERNAL_KEY = "canary-not-ours-internal-8d03aa";
const PERSONAL_KEY = "canary-not-ours-personal-61f2c5";
const OTHER_TOKEN = "canary-not-ours-other-owner-2a9c";
const ENDPOINT = "http://models.internal:8000/v1";

let namespace: string;
let operator: TestOperator;
const worlds: AppWithOwner[] = [];

async function world(organization: string, spec: Record<string, unknown> = {}): Promise<AppWithOwner> {
  const w = await startAppWithOwner();
  worlds.push(w);
  await createOrganization(namespace, organization, w.app.url, w.token, spec);
  return w;
}

const openAI = (organization: string) => ({
  organizationRef: { name: organization },
  provider: "OpenAI",
  openAI: { apiKeySecretRef: { name: "cred", key: "api-key" } },
});
const custom = (organization: string) => ({
  organizationRef: { name: organization },
  provider: "Custom",
  custom: { name: "llama3.1", endpoint: ENDPOINT, apiKeySecretRef: { name: "cred", key: "api-key" } },
});

/** Every request but a read that names the record: a PATCH, PUT or DELETE of it. */
const touches = (w: AppWithOwner, id: number) =>
  w.app.state.requests.filter(
    (r) => r.method !== "GET" && r.path === `/api/model-provider-connections/${id}/`,
  );

/** Seeds one record of each kind the operator must leave alone; returns them as they were. */
function seedNotOurs(w: AppWithOwner, fields: Record<string, unknown>, createdBy: number) {
  const internal = w.app.state.addInternalConnection(1, { ...fields, api_key: INTERNAL_KEY }, createdBy);
  const personal = w.app.state.addUserConnection(1, createdBy, { ...fields, api_key: PERSONAL_KEY });
  return [internal, personal];
}

/** The seeded records are exactly as they were, and no write ever named them. */
function expectUntouched(w: AppWithOwner, seeded: ReturnType<typeof seedNotOurs>) {
  for (const before of seeded) {
    expect(w.app.state.getConnection(before.id)).toEqual(before);
    expect(touches(w, before.id)).toEqual([]);
  }
}

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("not-ours");
  await putSecret(namespace, "cred", { "api-key": KEY });
  operator = await startTestOperator({
    namespace,
    flags: ["--resync-interval=2s"],
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    if (operator) {
      const tokens = worlds.map((w) => w.token);
      await expectNoLeaks({
        namespace,
        operator,
        secrets: [KEY, INTERNAL_KEY, PERSONAL_KEY, OTHER_TOKEN, ...tokens],
      });
    }
  } finally {
    await operator?.stop();
    for (const w of worlds) await w.app.stop();
  }
});

describe("adoption", () => {
  it("never adopts them, even with adoptExisting and made by the operator's own user: it creates its own", async () => {
    const w = await world("adopt", { adoptExisting: true });
    const seeded = seedNotOurs(w, { provider: "OpenAI", scope: "Organization" }, w.userId);
    await createConnection(namespace, "openai", openAI("adopt"));
    const c = await waitForCondition(namespace, "openai", "Ready", "True");
    const id = c.status?.appConnectionId as number;
    expect(seeded.map((r) => r.id)).not.toContain(id);
    expect(w.app.state.getConnection(id)).toMatchObject({ provider: "OpenAI", scope: "Organization" });
    expect(w.app.state.getConnection(id)?.secrets.api_key).toBe(KEY);
    expect(w.app.state.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expectUntouched(w, seeded);
  });

  it("never adopts a per-model internal or personal record with the same model and server", async () => {
    const w = await world("adopt-model", { adoptExisting: true });
    const seeded = seedNotOurs(
      w,
      { provider: "Custom", scope: "Model", deployment_name: "llama3.1", endpoint: ENDPOINT },
      w.userId,
    );
    await createConnection(namespace, "llama", custom("adopt-model"));
    const c = await waitForCondition(namespace, "llama", "Ready", "True");
    expect(seeded.map((r) => r.id)).not.toContain(c.status?.appConnectionId);
    expectUntouched(w, seeded);
  });
});

describe("one connection per organization", () => {
  it("does not count them as the organization's connection: no ExistsInApp, a record of its own", async () => {
    const w = await world("one-per-org");
    const other = w.app.state.addUser({ role: "owner", organization: 1, legacyToken: OTHER_TOKEN });
    const seeded = seedNotOurs(w, { provider: "OpenAI", scope: "Organization" }, other.id);
    await createConnection(namespace, "openai-one", openAI("one-per-org"));
    const c = await waitForCondition(namespace, "openai-one", "Ready", "True");
    expect(seeded.map((r) => r.id)).not.toContain(c.status?.appConnectionId);
    const events = await eventsFor(namespace, "openai-one");
    expect(events.filter((line) => line.includes("ExistsInApp"))).toEqual([]);
    expectUntouched(w, seeded);
  });
});

describe("drift correction", () => {
  it.each([
    ["made internal", { is_internal: true }, "internal"],
    ["turned into a user's own", { scope: "User" }, "scope User"],
  ])("leaves the record alone once it is %s in the app, and makes a new one", async (_case, change, why) => {
    const organization = `drift-${Object.keys(change)[0]?.replace("_", "-")}`;
    const w = await world(organization);
    const name = `llm-${organization}`;
    await createConnection(namespace, name, custom(organization));
    const before = await waitForCondition(namespace, name, "Ready", "True");
    const oldId = before.status?.appConnectionId as number;

    const turned = w.app.state.updateConnection(oldId, change);
    const writesBefore = touches(w, oldId).length;
    const after = await waitFor(
      async () => {
        const c = await getConnection(namespace, name);
        const id = c?.status?.appConnectionId;
        return id !== undefined && id !== oldId ? c : undefined;
      },
      { timeoutMs: 20_000, description: "a new app record in status" },
    );
    const recreated = await waitFor(
      async () => (await eventsFor(namespace, name)).find((line) => line.startsWith("Normal Recreated:")),
      { description: "a Recreated Event" },
    );
    expect(recreated).toContain(why);
    expect(w.app.state.getConnection(after.status?.appConnectionId as number)).toMatchObject({
      deployment_name: "llama3.1",
      scope: "Model",
      is_internal: false,
    });
    // Several resyncs later the turned record is still exactly as the app left it.
    const resyncs = w.app.state.requests.length;
    await waitFor(() => w.app.state.requests.length >= resyncs + 4, {
      description: "two more resyncs",
    });
    expect(w.app.state.getConnection(oldId)).toEqual(turned);
    expect(touches(w, oldId)).toHaveLength(writesBefore);
  });
});

describe("deletion", () => {
  it("does not delete the record status points at once it is internal: the finalizer goes, the record stays", async () => {
    const w = await world("delete-by-id");
    await createConnection(namespace, "openai-del", openAI("delete-by-id"));
    const c = await waitForCondition(namespace, "openai-del", "Ready", "True");
    const id = c.status?.appConnectionId as number;
    // Turned internal in the app and, in the same breath, the connection deleted (before a resync notices).
    const turned = w.app.state.updateConnection(id, { is_internal: true });
    await deleteConnection(namespace, "openai-del");
    await waitFor(async () => (await getConnection(namespace, "openai-del")) === undefined, {
      description: "openai-del gone",
    });
    expect(w.app.state.getConnection(id)).toEqual(turned);
    expect(touches(w, id)).toEqual([]);
  });

  it("does not delete an internal or personal record as a leftover of a connection without an id", async () => {
    const w = await world("delete-leftover");
    // Stop the create from happening, so that the connection is deleted with no id in status.
    await createConnection(namespace, "llama-gone", {
      ...custom("delete-leftover"),
      custom: { ...custom("delete-leftover").custom, apiKeySecretRef: { name: "missing", key: "api-key" } },
    });
    await waitForCondition(namespace, "llama-gone", "Ready", "False", "SecretNotFound");
    const seeded = seedNotOurs(
      w,
      { provider: "Custom", scope: "Model", deployment_name: "llama3.1", endpoint: ENDPOINT },
      w.userId,
    );
    await deleteConnection(namespace, "llama-gone");
    await waitFor(async () => (await getConnection(namespace, "llama-gone")) === undefined, {
      description: "llama-gone gone",
    });
    // The deletion listed the app (it looked for a leftover) and deleted nothing.
    expect(
      w.app.state.requests.some((r) => r.method === "GET" && r.path === "/api/model-provider-connections/"),
    ).toBe(true);
    expectUntouched(w, seeded);
    expect(w.app.state.listConnections()).toHaveLength(2);
  });
});
