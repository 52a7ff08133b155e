// One connection per organization for organization-wide providers: the oldest ProviderConnection wins, a newer
// one waits as DuplicateProvider naming the winner, and takes over when the winner is deleted.
import { afterAll, beforeAll, expect, it } from "vitest";
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

const OLDER_KEY = "canary-one-older-key-2f9b0c";
const NEWER_KEY = "canary-one-newer-key-c81e57";
// Names chosen so that the newer sorts first: age, not name, must decide.
const OLDER = "z-older";
const NEWER = "a-newer";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

const openAIRecords = () => world.app.state.listConnections().filter((r) => r.provider === "OpenAI");
const spec = (secret: string) => ({
  organizationRef: { name: "acme" },
  provider: "OpenAI",
  openAI: { apiKeySecretRef: { name: secret, key: "api-key" } },
});

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("one-per-org");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "older", { "api-key": OLDER_KEY });
  await putSecret(namespace, "newer", { "api-key": NEWER_KEY });
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [OLDER_KEY, NEWER_KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

it("keeps the older connection and holds the newer one as DuplicateProvider naming the winner", async () => {
  await createConnection(namespace, OLDER, spec("older"));
  const older = await waitForCondition(namespace, OLDER, "Ready", "True");
  // creationTimestamp has a resolution of one second: let the clock pass it, so the two are not the same age.
  const olderCreated = Date.parse(older.metadata.creationTimestamp as string);
  await waitFor(() => Date.now() >= olderCreated + 1000, { description: "the next second" });
  await createConnection(namespace, NEWER, spec("newer"));

  const newer = await waitForCondition(namespace, NEWER, "Ready", "False", "DuplicateProvider");
  expect(Date.parse(newer.metadata.creationTimestamp as string)).toBeGreaterThan(olderCreated);
  expect(newer.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(`"${OLDER}"`);
  expect(newer.status?.conditions?.find((c) => c.type === "AppSynced")?.status).toBe("False");
  expect(newer.status?.appConnectionId).toBeUndefined();
  const events = await waitFor(
    async () =>
      (await eventsFor(namespace, NEWER)).find((line) => line.startsWith("Warning DuplicateProvider:")),
    { description: "a DuplicateProvider Event" },
  );
  expect(events).toContain(OLDER);

  // The winner is untouched: still Ready with its record, and the app has one OpenAI record holding its key.
  const winner = await getConnection(namespace, OLDER);
  expect(winner?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  const records = openAIRecords();
  expect(records.map((r) => r.id)).toEqual([winner?.status?.appConnectionId]);
  expect(records[0]?.secrets.api_key).toBe(OLDER_KEY);
});

it("hands over to the next oldest when the winner is deleted", async () => {
  const oldId = (await getConnection(namespace, OLDER))?.status?.appConnectionId as number;
  await deleteConnection(namespace, OLDER);
  await waitFor(async () => (await getConnection(namespace, OLDER)) === undefined, {
    description: `${OLDER} deleted`,
  });
  const taken = await waitForCondition(namespace, NEWER, "Ready", "True");
  const newId = taken.status?.appConnectionId as number;
  expect(newId).toBeTypeOf("number");
  expect(newId).not.toBe(oldId);
  const records = openAIRecords();
  expect(records.map((r) => r.id)).toEqual([newId]);
  expect(records[0]?.secrets.api_key).toBe(NEWER_KEY);
  expect(world.app.state.getConnection(oldId)).toBeUndefined();
});

it("a new winner adopts the record an Orphan winner left behind", async () => {
  await putSecret(namespace, "gemini-older", { "api-key": OLDER_KEY });
  await putSecret(namespace, "gemini-newer", { "api-key": NEWER_KEY });
  const gemini = (secret: string, extra: Record<string, unknown> = {}) => ({
    organizationRef: { name: "acme" },
    provider: "Gemini",
    gemini: { apiKeySecretRef: { name: secret, key: "api-key" } },
    ...extra,
  });
  await createConnection(namespace, "gemini-first", gemini("gemini-older", { deletionPolicy: "Orphan" }));
  const first = await waitForCondition(namespace, "gemini-first", "Ready", "True");
  const created = Date.parse(first.metadata.creationTimestamp as string);
  await waitFor(() => Date.now() >= created + 1000, { description: "the next second" });
  await createConnection(namespace, "gemini-second", gemini("gemini-newer"));
  await waitForCondition(namespace, "gemini-second", "Ready", "False", "DuplicateProvider");

  const id = first.status?.appConnectionId as number;
  await deleteConnection(namespace, "gemini-first");
  const second = await waitForCondition(namespace, "gemini-second", "Ready", "True");
  expect(second.status?.appConnectionId).toBe(id);
  const records = world.app.state.listConnections().filter((r) => r.provider === "Gemini");
  expect(records.map((r) => r.id)).toEqual([id]);
  expect(records[0]?.secrets.api_key).toBe(NEWER_KEY);
});
