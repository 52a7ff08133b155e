// Quiet status for GitOps tools: a connection that keeps failing against a broken app, while every Event it tries
// to record is refused (403, as in a terminating namespace), writes its status once for the failure and then not
// again: its resourceVersion stays put across two minutes of retries, and no response header reaches a message.
// A connection whose Events are refused still syncs.
import type { KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import { createInformer } from "../../operator/kube/informer.ts";
import { testCluster } from "../support/cluster.ts";
import { type InProcessOperator, startInProcessOperator } from "../support/in-process-operator.ts";
import { type FaultProxy, startFaultProxy } from "../support/kube-fault-proxy.ts";
import { answersValid } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  putSecret,
  startAppWithOwner,
} from "../support/world.ts";

/** How long the failure is watched: the two minutes, over which the backoff retries many times. */
const WINDOW_MS = 120_000;
/** Text of a raw HTTP response that must never reach a condition message. */
const RAW_RESPONSE = /audit-id|HTTP-Code|Headers|GMT/i;

let broken: AppWithOwner;
let healthy: AppWithOwner;
let proxy: FaultProxy;
let operator: InProcessOperator;
let namespace: string;
let stopWatch: (() => void) | undefined;
/** Every version of our connections the API server announced, in order (one per new resourceVersion). */
const announced: ProviderConnection[] = [];
const versionsOf = (name: string) => announced.filter((c) => c.metadata.name === name);
const ready = (c: ProviderConnection | undefined) => c?.status?.conditions?.find((x) => x.type === "Ready");
const custom = (name: string, organization: string) => ({
  organizationRef: { name: organization },
  provider: "Custom",
  custom: { name, endpoint: "http://models.internal/v1", apiKeySecretRef: { name: "cred", key: "api-key" } },
});

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("quiet-status");
  broken = await startAppWithOwner();
  healthy = await startAppWithOwner();
  await createOrganization(namespace, "broken-app", broken.app.url, broken.token);
  await createOrganization(namespace, "working-app", healthy.app.url, healthy.token);
  await putSecret(namespace, "cred", { "api-key": "k" });
  broken.app.state.injectFault({
    match: { method: "POST", path: "/api/model-provider-connections" },
    kind: "status",
    status: 503,
    times: Number.MAX_SAFE_INTEGER,
  });
  // The operator reaches the API server through a proxy that refuses every Event.
  proxy = await startFaultProxy(cluster.operator.kubeConfig);
  proxy.fail((url) => url.pathname.endsWith("/events"), 403, Number.POSITIVE_INFINITY);
  const watch = createInformer<KubernetesObject>({
    kc: cluster.kube,
    resource: { group: GROUP, version: VERSION, plural: "providerconnections" },
    namespace,
  });
  for (const event of ["add", "update"] as const) {
    watch.on(event, (object) => void announced.push(object as ProviderConnection));
  }
  await watch.start();
  stopWatch = () => void watch.stop();
  operator = await startInProcessOperator({
    kc: proxy.kube,
    namespace,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  stopWatch?.();
  await operator?.stop();
  await proxy?.close();
  await broken?.app.stop();
  await healthy?.app.stop();
});

describe("a connection failing against a broken app", () => {
  it(
    "writes its status once for the failure, then nothing for two minutes of retries",
    async () => {
      await createConnection(namespace, "broken", custom("broken", "broken-app"));
      const failed = await waitFor(
        () => versionsOf("broken").find((c) => ready(c)?.reason === "AppUnreachable"),
        { description: "Ready=False AppUnreachable" },
      );
      const posts = () => broken.app.state.requests.filter((r) => r.method === "POST").length;
      const attemptsBefore = posts();

      // An observation window, not a wait for a condition: what is measured is that nothing happens in it.
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));

      expect(
        posts() - attemptsBefore,
        "the operator kept retrying through the window",
      ).toBeGreaterThanOrEqual(3);
      expect(proxy.requests.some((r) => r.startsWith("POST") && r.includes("/events"))).toBe(true);
      const all = versionsOf("broken");
      expect(all.slice(all.indexOf(failed) + 1).map((c) => c.metadata.resourceVersion)).toEqual([]);
      const live = (await testCluster().custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: "providerconnections",
        name: "broken",
      })) as ProviderConnection;
      expect(live.metadata.resourceVersion).toBe(failed.metadata.resourceVersion);

      // At most one status write per distinct status, over the whole life of the object.
      const statuses = all.map((c) => JSON.stringify(c.status ?? {}));
      const writes = statuses.filter((s, i) => i > 0 && s !== statuses[i - 1]).length;
      expect(writes).toBeLessThanOrEqual(new Set(statuses).size);

      expect(ready(failed)?.message ?? "").not.toMatch(RAW_RESPONSE);
      expect(failed.status?.conditions?.find((c) => c.type === "Reconciling")).toMatchObject({
        status: "True",
        reason: "AppUnreachable",
      });
    },
    WINDOW_MS + 60_000,
  );
});

describe("a connection whose Events are refused", () => {
  it("syncs all the same, and no response of the refusal reaches its status", async () => {
    await createConnection(namespace, "refused-events", custom("refused-events", "working-app"));
    const synced = await waitFor(
      () => versionsOf("refused-events").find((c) => ready(c)?.status === "True"),
      { description: "refused-events Ready=True" },
    );
    expect(healthy.app.state.getConnection(synced.status?.appConnectionId as number)).toBeDefined();
    for (const version of versionsOf("refused-events")) {
      for (const condition of version.status?.conditions ?? []) {
        expect(condition.message ?? "").not.toMatch(RAW_RESPONSE);
      }
    }
  });
});
