// Quiet status for GitOps tools: a connection that keeps failing against a broken app, while every Event it tries
// to record is refused (403, as in a terminating namespace), writes its status once for the failure and then not
// again: its resourceVersion stays put across two minutes of retries, and no response header reaches a message.
import { type KubernetesObject, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
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

let world: AppWithOwner;
let proxy: FaultProxy;
let operator: InProcessOperator;
let namespace: string;
let stopWatch: (() => void) | undefined;
/** Every version of the connection the API server announced, in order. */
const seen: ProviderConnection[] = [];

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("quiet-status");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "cred", { "api-key": "k" });
  proxy = await startFaultProxy(cluster.operator.kubeConfig);
  proxy.fail((url) => url.pathname.endsWith("/events"), 403, Number.POSITIVE_INFINITY);
  world.app.state.injectFault({
    match: { method: "POST", path: "/api/model-provider-connections" },
    kind: "status",
    status: 503,
    times: Number.MAX_SAFE_INTEGER,
  });
  const request = await new Watch(cluster.kubeConfig).watch(
    `/apis/modelkeys.dev/v1alpha1/namespaces/${namespace}/providerconnections`,
    { fieldSelector: "metadata.name=broken" },
    (_type: string, object: KubernetesObject) => void seen.push(object as ProviderConnection),
    () => undefined,
  );
  stopWatch = () => request.abort();
  operator = await startInProcessOperator({
    kc: proxy.kubeConfig,
    namespace,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  stopWatch?.();
  await operator?.stop();
  await proxy?.close();
  await world?.app.stop();
});

const ready = (c: ProviderConnection | undefined) => c?.status?.conditions?.find((x) => x.type === "Ready");

describe("a connection failing against a broken app", () => {
  it(
    "writes its status once for the failure, then nothing for two minutes of retries",
    async () => {
      await createConnection(namespace, "broken", {
        organizationRef: { name: "acme" },
        provider: "Custom",
        custom: {
          name: "broken",
          endpoint: "http://models.internal/v1",
          apiKeySecretRef: { name: "cred", key: "api-key" },
        },
      });
      const failed = await waitFor(() => seen.find((c) => ready(c)?.reason === "AppUnreachable"), {
        description: "Ready=False AppUnreachable",
        timeoutMs: 30_000,
      });
      const at = seen.indexOf(failed);
      const attemptsBefore = world.app.state.requests.filter((r) => r.method === "POST").length;

      // An observation window, not a wait for a condition: what is measured is that nothing happens in it.
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));

      const attempts = world.app.state.requests.filter((r) => r.method === "POST").length - attemptsBefore;
      expect(attempts, "the operator kept retrying through the window").toBeGreaterThanOrEqual(3);
      expect(proxy.requests.some((r) => r.startsWith("POST") && r.includes("/events"))).toBe(true);

      const after = seen.slice(at + 1);
      expect(after.map((c) => c.metadata.resourceVersion)).toEqual([]);
      const live = await testCluster().custom.getNamespacedCustomObject({
        group: "modelkeys.dev",
        version: "v1alpha1",
        namespace,
        plural: "providerconnections",
        name: "broken",
      });
      expect((live as ProviderConnection).metadata.resourceVersion).toBe(failed.metadata.resourceVersion);

      // At most one status write per distinct set of conditions, over the whole life of the object.
      const statuses = seen.map((c) => JSON.stringify(c.status ?? {}));
      const writes = statuses.filter((s, i) => i > 0 && s !== statuses[i - 1]).length;
      expect(writes).toBeLessThanOrEqual(new Set(statuses).size);

      const message = ready(failed)?.message ?? "";
      expect(message).not.toMatch(/audit-id|HTTP-Code|Headers|GMT/i);
      expect(failed.status?.conditions?.find((c) => c.type === "Reconciling")).toMatchObject({
        status: "True",
        reason: "AppUnreachable",
      });
    },
    WINDOW_MS + 60_000,
  );
});
