// Idle: with 100 Ready connections and nothing changing for 2 minutes, the operator writes nothing to the API
// server and makes no app calls beyond the scheduled resync (none falls inside the window at the default 10m).
import { Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  putSecret,
  startAppWithOwner,
} from "../support/world.ts";

const CONNECTIONS = 100;
const IDLE_MS = 120_000;
const IDLE_KEY = "canary-idle-key-51d0";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("idle");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "cred", { value: IDLE_KEY });
  operator = await startTestOperator({
    namespace,
    flags: ["--resync-interval=10m", "--concurrency=8"],
    checkModels: answersValid("m"),
  });
  // Custom connections are per model, so 100 of them coexist in one organization.
  for (let i = 0; i < CONNECTIONS; i++) {
    await createConnection(namespace, `llm-${i}`, {
      organizationRef: { name: "acme" },
      provider: "Custom",
      custom: {
        name: `model-${i}`,
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: "cred", key: "value" },
      },
    });
  }
}, 300_000);

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [IDLE_KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

it(
  "writes nothing and calls the app for nothing while nothing changes",
  async () => {
    const { custom } = testCluster();
    await waitFor(
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: "modelkeys.dev",
          version: "v1alpha1",
          namespace,
          plural: "providerconnections",
        })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
        return (
          list.items.filter((c) =>
            c.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"),
          ).length === CONNECTIONS
        );
      },
      { timeoutMs: 180_000, intervalMs: 1000, description: `${CONNECTIONS} connections Ready` },
    );
    expect(world.app.state.listConnections()).toHaveLength(CONNECTIONS);
    // Ready is written before the reconciles it triggers have run (each status write is a watch event): the idle
    // window starts once the queue has nothing waiting or running.
    await waitFor(() => operator.controller.pending() === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: "the operator's queue to drain",
    });

    // From here on, watch every change to the connections and record every app call.
    const modified: string[] = [];
    const watch = new Watch(testCluster().kubeConfig);
    const request = await watch.watch(
      `/apis/modelkeys.dev/v1alpha1/namespaces/${namespace}/providerconnections`,
      { allowWatchBookmarks: false },
      (type, obj: { metadata: { name: string; resourceVersion: string } }) => {
        if (type !== "ADDED") modified.push(`${type} ${obj.metadata.name}@${obj.metadata.resourceVersion}`);
      },
      () => undefined,
    );
    world.app.state.clearRequests();
    const eventsBefore = (await testCluster().core.listNamespacedEvent({ namespace })).items.length;

    const started = Date.now();
    // The window itself is the measurement: poll for any write until it ends (fails fast on the first one).
    await expect(
      // On a failure the resolved value names what happened (watch events, app calls).
      waitFor(
        () =>
          modified.length > 0 || world.app.state.requests.length > 0
            ? [...modified, ...world.app.state.requests.map((r) => `${r.method} ${r.path}`)]
            : undefined,
        {
          // waitFor stops up to one interval before its deadline; the window must cover all of IDLE_MS.
          timeoutMs: IDLE_MS + 2000,
          intervalMs: 1000,
          description: "any write or app call",
        },
      ),
    ).rejects.toThrow(/timed out/);
    request.abort();
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS);
    expect(modified).toEqual([]);
    expect(world.app.state.requests).toEqual([]);
    expect((await testCluster().core.listNamespacedEvent({ namespace })).items.length).toBe(eventsBefore);
  },
  IDLE_MS + 240_000,
);
