// The finalizer comes first: while the API server refuses a new connection's finalizer write, the operator reads
// and checks (that work overlaps the write) but writes nothing to the app; once the write is accepted, the same
// connection syncs with one record.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import { FINALIZER } from "../../operator/constants.ts";
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

let world: AppWithOwner;
let proxy: FaultProxy;
let operator: InProcessOperator;
let namespace: string;
/** While true, the proxy answers 500 to writes of the connection object itself (its finalizer patch). */
let refusing = true;
const objectPath = (url: URL) => url.pathname.endsWith("/providerconnections/first");

const live = async () =>
  (await testCluster().custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "providerconnections",
    name: "first",
  })) as ProviderConnection;

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("finalizer-first");
  world = await startAppWithOwner();
  await createOrganization(namespace, "org", world.app.url, world.token);
  await putSecret(namespace, "cred", { "api-key": "k" });
  proxy = await startFaultProxy(cluster.operator.kubeConfig);
  proxy.fail((url) => refusing && objectPath(url), 500, Number.POSITIVE_INFINITY);
  operator = await startInProcessOperator({
    kc: proxy.kube,
    namespace,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  await operator?.stop();
  await proxy?.close();
  await world?.app.stop();
});

describe("a new connection whose finalizer write is refused", () => {
  it("writes nothing to the app until the finalizer is on, then syncs once", async () => {
    await createConnection(namespace, "first", {
      organizationRef: { name: "org" },
      provider: "Custom",
      custom: {
        name: "m",
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: "cred", key: "api-key" },
      },
    });
    const patches = () =>
      proxy.requests.filter((r) => r.startsWith("PATCH") && r.includes("/providerconnections/first")).length;
    await waitFor(() => patches() >= 2, { description: "two refused finalizer writes" });
    const posts = () => world.app.state.requests.filter((r) => r.method === "POST").length;
    expect(posts(), "an app write before the finalizer was accepted").toBe(0);
    expect((await live()).metadata.finalizers ?? []).not.toContain(FINALIZER);

    refusing = false;
    const synced = await waitFor(
      async () => {
        const c = await live();
        return c.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ? c : undefined;
      },
      { description: "Ready=True once the finalizer is accepted" },
    );
    expect(synced.metadata.finalizers).toContain(FINALIZER);
    expect(posts()).toBe(1);
    expect(world.app.state.getConnection(synced.status?.appConnectionId as number)).toBeDefined();
  });
});
