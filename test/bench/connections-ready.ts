// Benchmark (b): end to end, how long 50 Custom connections take from `create` to Ready with the controller
// running in-process against the local control plane, the app's contract server and a provider stand-in.
import { randomBytes } from "node:crypto";
import { Watch } from "@kubernetes/client-node";
import type { ProviderConnection } from "../../crds/index.ts";
import { startAppServer } from "../../local/app/server.ts";
import { startOpenAIStandIn } from "../../local/providers/index.ts";
import { startInProcessOperator } from "../support/in-process-operator.ts";
import { waitFor } from "../support/wait.ts";
import type { BenchCluster } from "./cluster.ts";
import { createAcme, createCustomConnection } from "./fleet.ts";
import { type Bench, percentile, round } from "./measure.ts";

const CONNECTIONS = 50;
const GROUP = { group: "modelkeys.dev", version: "v1alpha1" };

type Conditions = { conditions?: { type: string; status: string }[] } | undefined;
const isReady = (status: Conditions) =>
  status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

export const connectionsReady: Bench<BenchCluster> = {
  name: "connections-ready",
  description: `${CONNECTIONS} Custom connections from create to Ready (in-process controller, default flags)`,
  async run(cluster) {
    const { core, custom } = cluster.admin;
    const namespace = await cluster.createNamespace("bench-ready");
    const key = `bench-key-${randomBytes(8).toString("hex")}`;
    const models = Array.from({ length: CONNECTIONS }, (_, i) => `model-${i}`);
    const app = await startAppServer({ host: "127.0.0.1" });
    const token = randomBytes(20).toString("hex");
    app.state.addUser({ role: "owner", organization: 1, legacyToken: token });
    const standIn = await startOpenAIStandIn({ host: "127.0.0.1" }, { keys: [key], models });
    const operator = await startInProcessOperator({ kc: cluster.operatorKc, namespace, logLevel: "warn" });
    const watchAbort: AbortController[] = [];
    try {
      await createAcme(cluster.admin, namespace, app.url, token);
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: "llm" }, stringData: { key } },
      });
      await waitFor(
        async () => {
          const o = (await custom.getNamespacedCustomObject({
            ...GROUP,
            namespace,
            plural: "organizations",
            name: "acme",
          })) as { status?: Conditions };
          return isReady(o.status);
        },
        { timeoutMs: 30_000, description: "the Organization to be Ready" },
      );

      // When each connection is first seen Ready, by this process's clock.
      const readyAt = new Map<string, number>();
      const watch = new Watch(cluster.admin.kc);
      watchAbort.push(
        await watch.watch(
          `/apis/modelkeys.dev/v1alpha1/namespaces/${namespace}/providerconnections`,
          {},
          (_type, c: ProviderConnection) => {
            if (isReady(c.status) && !readyAt.has(c.metadata.name)) readyAt.set(c.metadata.name, Date.now());
          },
          () => undefined,
        ),
      );

      const createdAt = new Map<string, number>();
      const started = Date.now();
      for (const [i, model] of models.entries()) {
        const name = `llm-${i}`;
        createdAt.set(name, Date.now());
        await createCustomConnection(custom, namespace, name, {
          model,
          endpoint: `${standIn.url}/v1`,
          secret: { name: "llm", key: "key" },
        });
      }
      const createdMs = Date.now() - started;
      await waitFor(() => readyAt.size === CONNECTIONS, {
        timeoutMs: 120_000,
        intervalMs: 20,
        description: `${CONNECTIONS} connections Ready`,
      });
      const totalMs = Math.max(...readyAt.values()) - started;
      const latencies = [...readyAt].map(([name, at]) => at - (createdAt.get(name) as number));

      const records = app.state.listConnections();
      if (records.length !== CONNECTIONS)
        throw new Error(`the app holds ${records.length} records, not ${CONNECTIONS}`);
      const appRequests = app.state.requests.length;
      const reconciles = (await operator.metrics.reconcileTotal.get()).values.map((v) => [
        v.labels.result,
        v.value,
      ]);
      return {
        measurements: [
          {
            name: `all ${CONNECTIONS} Ready`,
            value: round(totalMs / 1000),
            unit: "s",
            target: { atMost: 30 },
          },
          {
            name: "connections Ready per second",
            value: round(CONNECTIONS / (totalMs / 1000)),
            unit: "conn/s",
          },
          { name: "create → Ready p50", value: round(percentile(latencies, 50)), unit: "ms" },
          {
            name: "create → Ready p95",
            value: round(percentile(latencies, 95)),
            unit: "ms",
            target: { atMost: 20_000 },
          },
          { name: "app requests per connection", value: round(appRequests / CONNECTIONS), unit: "req" },
        ],
        details: {
          connections: CONNECTIONS,
          createdMs,
          appRequests,
          providerRequests: standIn.requests.length,
          concurrency: "default (--concurrency=4)",
          reconciles: Object.fromEntries(reconciles),
        },
      };
    } finally {
      for (const a of watchAbort) a.abort();
      await operator.stop();
      await standIn.stop();
      await app.stop();
      // The namespace stays: the cluster is the benchmark's own and goes away with it.
    }
  },
};
