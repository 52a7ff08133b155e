// cached_available_models without a fight: an app that writes the field itself on every write (within the write,
// or as a change right after it) gets at most one write of it per change of the operator's own model check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATIONS } from "../../operator/constants.ts";
import type { ModelCheck, ModelCheckRequest } from "../../operator/providers/types.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  getConnection,
  patchConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-cached-models-key-71c4e0";
const APP_OWN = "the-app's-own-list";

let namespace: string;
let operator: TestOperator;
const worlds: AppWithOwner[] = [];
/** What the provider check finds, per connection (each has its own key): the test changes it. */
const found = new Map<string, string[]>();
const keyOf = (name: string) => `${KEY}-${name}`;

async function check(request: ModelCheckRequest): Promise<ModelCheck> {
  const name = [...found.keys()].find((candidate) => keyOf(candidate) === request.credentials.apiKey);
  const models = (name === undefined ? undefined : found.get(name)) ?? [];
  return {
    outcome: "Valid",
    message: "checked",
    models: models.map((name) => ({ name, available: true })),
  };
}

const recordPath = (id: number) => `/api/model-provider-connections/${id}/`;
const patches = (w: AppWithOwner, id: number) =>
  w.app.state.requests.filter((r) => r.method === "PATCH" && r.path === recordPath(id));
const cachedWrites = (w: AppWithOwner, id: number) =>
  patches(w, id).filter((r) => "cached_available_models" in ((r.body as object | undefined) ?? {}));
/** The operator's listings of the organization's records: each resync reads the app once, by a listing. */
const listings = (w: AppWithOwner) =>
  w.app.state.requests.filter((r) => r.method === "GET" && r.path === "/api/model-provider-connections/")
    .length;

/** Waits until the operator has looked at the app's records `count` more times (each resync is one look). */
async function resyncs(w: AppWithOwner, count: number): Promise<void> {
  const from = listings(w);
  await waitFor(() => listings(w) >= from + count, {
    timeoutMs: 30_000,
    description: `${count} more listings of the app's records`,
  });
}

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("cached-models");
  operator = await startTestOperator({ namespace, flags: ["--resync-interval=1s"], checkModels: check });
});

afterAll(async () => {
  try {
    if (operator)
      await expectNoLeaks({
        namespace,
        operator,
        secrets: [...[...found.keys()].map(keyOf), ...worlds.map((w) => w.token)],
      });
  } finally {
    await operator?.stop();
    for (const w of worlds) await w.app.stop();
  }
});

describe.each(["duringWrite", "afterWrite"] as const)("an app that rewrites the field %s", (when) => {
  it("gets one write of it per change of the operator's check, and none in between", async () => {
    const name = `openai-${when.toLowerCase()}`;
    const w = await startAppWithOwner();
    worlds.push(w);
    w.app.state.behaviour.writesCachedModels = { value: APP_OWN, when };
    await createOrganization(namespace, name, w.app.url, w.token);
    found.set(name, ["gpt-4o"]);
    await putSecret(namespace, name, { "api-key": keyOf(name) });
    await createConnection(namespace, name, {
      organizationRef: { name },
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name, key: "api-key" } },
    });
    const ready = await waitForCondition(namespace, name, "Ready", "True");
    const id = ready.status?.appConnectionId as number;
    // The create carried the operator's list; the app replaced it with its own.
    const create = w.app.state.requests.find((r) => r.method === "POST");
    expect(create?.body).toMatchObject({ cached_available_models: "gpt-4o" });
    expect(w.app.state.getConnection(id)?.cached_available_models).toBe(APP_OWN);

    // Resyncs come and go: the app's own list is not corrected back, nothing is written.
    await resyncs(w, 5);
    expect(patches(w, id)).toEqual([]);
    expect((await getConnection(namespace, name))?.status?.appCachedAvailableModels).toBe("gpt-4o");

    // The operator's own result changes: one write of the new list, then quiet again.
    found.set(name, ["gpt-4o", "gpt-4.1"]);
    await patchConnection(namespace, name, {
      metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: "first" } },
    });
    await waitFor(
      async () =>
        (await getConnection(namespace, name))?.status?.appCachedAvailableModels === "gpt-4o,gpt-4.1",
      { description: "the new list written and remembered" },
    );
    await resyncs(w, 5);
    expect(
      cachedWrites(w, id).map((r) => (r.body as Record<string, unknown>).cached_available_models),
    ).toEqual(["gpt-4o,gpt-4.1"]);
    expect(patches(w, id)).toHaveLength(1);
    expect(w.app.state.getConnection(id)?.cached_available_models).toBe(APP_OWN);

    // A check with the same result writes nothing.
    await patchConnection(namespace, name, {
      metadata: { annotations: { [ANNOTATIONS.refreshRequestedAt]: "second" } },
    });
    await waitFor(
      async () => (await getConnection(namespace, name))?.status?.refreshRequestedAt === "second",
      {
        description: "the second refresh handled",
      },
    );
    await resyncs(w, 3);
    expect(patches(w, id)).toHaveLength(1);
  });
});
