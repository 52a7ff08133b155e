// Drift: at each resync the operator checks the app's record against the spec. A record deleted in the app is
// recreated, a managed field changed in the app is patched back, and an unchanged record is left alone.
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  eventsFor,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-drift-key-0e5d72";
const ENDPOINT = "http://models.internal:8000/v1";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

const recordPath = (id: number) => `/api/model-provider-connections/${id}/`;
const writes = () =>
  world.app.state.requests.filter(
    (r) => r.method !== "GET" && r.path.startsWith("/api/model-provider-connections/"),
  );
const waitForEvent = (reason: string) =>
  waitFor(
    async () => (await eventsFor(namespace, "llm")).find((line) => line.startsWith(`Normal ${reason}:`)),
    { description: `a ${reason} Event` },
  );

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("drift");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "llm", { "api-key": KEY });
  operator = await startTestOperator({
    namespace,
    flags: ["--resync-interval=2s"],
    checkModels: answersValid("llama3.1"),
  });
  await createConnection(namespace, "llm", {
    organizationRef: { name: "acme" },
    provider: "Custom",
    custom: { name: "llama3.1", endpoint: ENDPOINT, apiKeySecretRef: { name: "llm", key: "api-key" } },
  });
  await waitForCondition(namespace, "llm", "Ready", "True");
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

it("recreates a record deleted in the app at the next resync", async () => {
  const oldId = (await getConnection(namespace, "llm"))?.status?.appConnectionId as number;
  expect(world.app.state.deleteConnection(oldId)).toBe(true);
  const recreated = await waitFor(
    async () => {
      const c = await getConnection(namespace, "llm");
      const id = c?.status?.appConnectionId;
      return id !== undefined && id !== oldId ? c : undefined;
    },
    { timeoutMs: 15_000, description: "a new app connection id in status" },
  );
  const newId = recreated.status?.appConnectionId as number;
  const record = world.app.state.getConnection(newId);
  expect(record).toMatchObject({
    provider: "Custom",
    scope: "Model",
    deployment_name: "llama3.1",
    endpoint: ENDPOINT,
  });
  expect(record?.secrets.api_key).toBe(KEY);
  expect(world.app.state.listConnections()).toHaveLength(1);
  expect(await waitForEvent("Recreated")).toContain(String(oldId));
  await waitForCondition(namespace, "llm", "Ready", "True");
});

it("patches back a managed field changed in the app", async () => {
  const id = (await getConnection(namespace, "llm"))?.status?.appConnectionId as number;
  world.app.state.clearRequests();
  world.app.state.updateConnection(id, { endpoint: "http://elsewhere.example/v1", deployment_name: "other" });
  const patch = await waitFor(() => writes().find((r) => r.method === "PATCH" && r.path === recordPath(id)), {
    timeoutMs: 15_000,
    description: "a PATCH restoring the record",
  });
  expect(patch.body).toMatchObject({ endpoint: ENDPOINT, deployment_name: "llama3.1" });
  expect(world.app.state.getConnection(id)).toMatchObject({
    endpoint: ENDPOINT,
    deployment_name: "llama3.1",
  });
  // Restored in place: no second record, same id.
  expect(world.app.state.listConnections()).toHaveLength(1);
  expect(writes().filter((r) => r.method !== "PATCH")).toEqual([]);
  expect(await waitForEvent("DriftCorrected")).toContain(String(id));
  expect((await getConnection(namespace, "llm"))?.status?.appConnectionId).toBe(id);
});

it("pushes the key again when the record was changed in the app (its key cannot be read back)", async () => {
  const id = (await getConnection(namespace, "llm"))?.status?.appConnectionId as number;
  world.app.state.clearRequests();
  world.app.state.updateConnection(id, { api_key: "replaced-by-hand-in-the-app" });
  const patch = await waitFor(() => writes().find((r) => r.method === "PATCH" && r.path === recordPath(id)), {
    timeoutMs: 15_000,
    description: "a PATCH restoring the key",
  });
  expect((patch.body as { api_key?: string }).api_key).toBe(KEY);
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(KEY);
});

it("leaves an unchanged record alone across resyncs (reads, no writes)", async () => {
  const id = (await getConnection(namespace, "llm"))?.status?.appConnectionId as number;
  // Let the previous test's correction settle (its status write) before watching for quiet.
  await waitFor(
    async () => {
      const c = await getConnection(namespace, "llm");
      return c?.status?.appUpdatedTime === world.app.state.getConnection(id)?.updated_at;
    },
    { description: "status records the app's latest update" },
  );
  const resourceVersion = (await getConnection(namespace, "llm"))?.metadata.resourceVersion;
  world.app.state.clearRequests();
  // Three resyncs have happened once the organization's records were listed three times (the shared listing
  // is refreshed at each resync, and serves every connection's drift check).
  await waitFor(
    () =>
      world.app.state.requests.filter(
        (r) => r.method === "GET" && r.path === "/api/model-provider-connections/",
      ).length >= 3,
    { timeoutMs: 20_000, description: "three resync listings of the records" },
  );
  expect(writes()).toEqual([]);
  // Quiet for GitOps tools too: no status write while nothing changed.
  expect((await getConnection(namespace, "llm"))?.metadata.resourceVersion).toBe(resourceVersion);
});
