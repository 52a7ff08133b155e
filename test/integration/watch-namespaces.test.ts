// An operator started with two namespaces (--namespaces a,b) reconciles connections in both and ignores a third.
// It runs as a ServiceAccount bound by the namespaced install's RBAC only, so a cluster-wide list or watch, or a
// read in the third namespace, would be refused by the API server and the informers would never sync.
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { startInProcessOperator } from "../support/in-process-operator.ts";
import { installMode, removeInstalledModes } from "../support/install-modes.ts";
import type { TestOperator } from "../support/operator.ts";
import { answersValid } from "../support/operator.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEYS: Record<string, string> = {};
// One app per namespace: an organization holds one OpenAI record, so two namespaces sharing one would compete.
const APPS: Record<string, AppWithOwner> = {};
let operator: TestOperator;
let watched: string[];
let ignored: string;

const spec = {
  organizationRef: { name: "acme" },
  provider: "OpenAI",
  openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
};

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  const [a, b, c] = await Promise.all([
    cluster.createTestNamespace("watch-a"),
    cluster.createTestNamespace("watch-b"),
    cluster.createTestNamespace("watch-c"),
  ]);
  watched = [a, b];
  ignored = c;
  // The ignored namespace's connection exists first: an operator that saw it would reach it first.
  for (const namespace of [c, a, b]) {
    KEYS[namespace] = `canary-watch-key-${Math.random().toString(36).slice(2)}`;
    const world = await startAppWithOwner();
    APPS[namespace] = world;
    await createOrganization(namespace, "acme", world.app.url, world.token);
    await putSecret(namespace, "openai", { "api-key": KEYS[namespace] });
    await createConnection(namespace, "openai", spec);
  }
  // The operator's identity: the namespaced install's RBAC for a and b, nothing else.
  const { kc } = await installMode({ watchNamespaces: watched }, "watch", c);
  operator = await startInProcessOperator({
    kc,
    namespace: watched,
    checkModels: answersValid("gpt-4o"),
  });
});

afterAll(async () => {
  try {
    if (operator) {
      for (const namespace of [...watched, ignored]) {
        const tokens = Object.values(APPS).map((world) => world.token);
        await expectNoLeaks({ namespace, operator, secrets: [...Object.values(KEYS), ...tokens] });
      }
    }
  } finally {
    await operator?.stop();
    for (const world of Object.values(APPS)) await world.app.stop();
    await removeInstalledModes();
  }
});

it("reconciles the connections of both watched namespaces, each with its own key in the app", async () => {
  for (const namespace of watched) {
    const ready = await waitForCondition(namespace, "openai", "Ready", "True");
    const record = APPS[namespace]?.app.state.getConnection(ready.status?.appConnectionId as number);
    expect(record?.secrets.api_key).toBe(KEYS[namespace]);
  }
});

it("leaves the third namespace alone: no status written, no finalizer, no record in the app", async () => {
  for (const namespace of watched) await waitForCondition(namespace, "openai", "Ready", "True");
  const untouched = await getConnection(ignored, "openai");
  // Only what the API server defaults (Reconciling: waiting for the first reconcile); nothing the operator writes.
  expect(untouched?.status?.observedGeneration).toBeUndefined();
  expect(untouched?.status?.conditions?.map((c) => c.reason)).toEqual(["Reconciling"]);
  expect(untouched?.metadata.finalizers ?? []).toEqual([]);
  for (const namespace of watched) {
    expect(APPS[namespace]?.app.state.listConnections().map((r) => r.secrets.api_key)).toEqual([
      KEYS[namespace],
    ]);
  }
  expect(APPS[ignored]?.app.state.listConnections()).toEqual([]);
  expect(operator.logs()).not.toContain(`"${ignored}`);
});
