// Benchmark (f): 100 Custom connections through an app outage while their Secrets rotate: how many requests reach
// the app per minute (the per-Organization breaker: about one probe per interval after the first minute), and how
// long after the app's return every connection is Ready with its Secret's latest key.
import { randomBytes } from "node:crypto";
import type { ProviderConnection } from "../../crds/index.ts";
import { startAppServer } from "../../local/app/server.ts";
import { startOpenAIStandIn } from "../../local/providers/index.ts";
import { startInProcessOperator } from "../support/in-process-operator.ts";
import { waitFor } from "../support/wait.ts";
import type { BenchCluster } from "./cluster.ts";
import { createAcme, createCustomConnection } from "./fleet.ts";
import { type Bench, type Measurement, round } from "./measure.ts";

const CONNECTIONS = 100;
/** Connections share these Secrets (10 each); one of them rotates every ROTATE_EVERY_MS during the outage. */
const SECRETS = 10;
const ROTATE_EVERY_MS = 10_000;
/** MODELKEYS_BENCH_OUTAGE_S=60 for a quick run; the figure is for 300 (5 minutes). */
const OUTAGE_MS = Number(process.env.MODELKEYS_BENCH_OUTAGE_S ?? 300) * 1000;
/** The operator's default --app-probe-interval. */
const PROBE_INTERVAL_S = 5;
const GROUP = { group: "modelkeys.dev", version: "v1alpha1" };
const WHOAMI = "/api/current-user/whoami";

type Conditions = { conditions?: { type: string; status: string }[] } | undefined;
const isReady = (status: Conditions) =>
  status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

export const appOutage: Bench<BenchCluster> = {
  name: "app-outage",
  description: `${CONNECTIONS} connections, a ${OUTAGE_MS / 1000} s app outage (503) with Secrets rotating: app requests per minute, and the app's return → all Ready with the latest keys (MODELKEYS_BENCH_OUTAGE_S)`,
  async run(cluster) {
    const { core, custom } = cluster.admin;
    const namespace = await cluster.createNamespace("bench-outage");
    const models = Array.from({ length: CONNECTIONS }, (_, i) => `model-${i}`);
    const rotations = Math.ceil(OUTAGE_MS / ROTATE_EVERY_MS) + 1;
    // Every key the Secrets will hold, known to the provider stand-in up front.
    const keys = Array.from({ length: SECRETS }, () =>
      Array.from({ length: rotations + 1 }, () => `bench-key-${randomBytes(8).toString("hex")}`),
    );
    const current = keys.map(() => 0);
    const app = await startAppServer({ host: "127.0.0.1" });
    const token = randomBytes(20).toString("hex");
    app.state.addUser({ role: "owner", organization: 1, legacyToken: token });
    const standIn = await startOpenAIStandIn({ host: "127.0.0.1" }, { keys: keys.flat(), models });
    const operator = await startInProcessOperator({ kc: cluster.operatorKc, namespace, logLevel: "warn" });
    const secretOf = (i: number) => `llm-${i % SECRETS}`;
    const putKey = async (s: number) => {
      const body = {
        metadata: { name: `llm-${s}` },
        stringData: { key: keys[s]?.[current[s] ?? 0] as string },
      };
      await core.replaceNamespacedSecret({ namespace, name: `llm-${s}`, body }).catch(async (error) => {
        if ((error as { code?: number }).code !== 404) throw error;
        await core.createNamespacedSecret({ namespace, body });
      });
    };
    try {
      await createAcme(cluster.admin, namespace, app.url, token);
      for (let s = 0; s < SECRETS; s++) await putKey(s);
      for (const [i, model] of models.entries()) {
        await createCustomConnection(custom, namespace, `llm-${i}`, {
          model,
          endpoint: `${standIn.url}/v1`,
          secret: { name: secretOf(i), key: "key" },
        });
      }
      /** Every connection Ready, and the app holding its Secret's current key. */
      const allSynced = async () => {
        const list = (await custom.listNamespacedCustomObject({
          ...GROUP,
          namespace,
          plural: "providerconnections",
        })) as { items: ProviderConnection[] };
        if (list.items.length !== CONNECTIONS) return false;
        return list.items.every((c) => {
          const s = Number(c.spec.custom?.apiKeySecretRef?.name.slice("llm-".length));
          const id = c.status?.appConnectionId;
          return (
            isReady(c.status) &&
            id !== undefined &&
            app.state.getConnection(id)?.secrets.api_key === keys[s]?.[current[s] ?? 0]
          );
        });
      };
      await waitFor(allSynced, { timeoutMs: 180_000, intervalMs: 500, description: "all connections Ready" });

      // The outage: every request answered 503, while one Secret rotates every ROTATE_EVERY_MS.
      app.state.clearRequests();
      const outageStart = Date.now();
      app.state.injectFault({ kind: "status", status: 503, times: Number.MAX_SAFE_INTEGER });
      let rotated = 0;
      while (Date.now() - outageStart < OUTAGE_MS) {
        const s = rotated % SECRETS;
        current[s] = (current[s] ?? 0) + 1;
        await putKey(s);
        rotated += 1;
        const next = outageStart + rotated * ROTATE_EVERY_MS;
        const wait = Math.min(next, outageStart + OUTAGE_MS) - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        process.stdout.write(
          `[bench] app-outage: ${round((Date.now() - outageStart) / 1000)} s into the outage, ${app.state.requests.length} app requests so far\n`,
        );
      }
      const outageRequests = [...app.state.requests];
      const backAt = Date.now();
      app.state.clearFaults();
      await waitFor(allSynced, {
        timeoutMs: 300_000,
        intervalMs: 100,
        description: "all connections Ready with the latest keys",
      });
      const resumeMs = Date.now() - backAt;

      const minutes = Math.ceil(OUTAGE_MS / 60_000);
      const perMinute = Array.from({ length: minutes }, (_, m) =>
        outageRequests.filter(
          (r) => r.at >= outageStart + m * 60_000 && r.at < Math.min(outageStart + (m + 1) * 60_000, backAt),
        ),
      );
      const probeBudget = 60 / PROBE_INTERVAL_S;
      const afterFirst = perMinute.slice(1).map((rs) => rs.length);
      const measurements: Measurement[] = [
        ...perMinute.map((rs, m) => ({
          name: `app requests in minute ${m + 1} of the outage (probes)`,
          value: rs.length,
          unit: `req (${rs.filter((r) => r.path === WHOAMI).length})`,
        })),
        ...(afterFirst.length > 0
          ? [
              {
                name: "most app requests in a minute after the first",
                value: Math.max(...afterFirst),
                unit: "req/min",
                // About one probe per interval, with room for a probe at each minute's edge.
                target: { atMost: probeBudget + 2 },
              },
            ]
          : []),
        {
          name: `app back → all ${CONNECTIONS} Ready with the latest keys`,
          value: round(resumeMs / 1000),
          unit: "s",
          target: { atMost: 10 },
        },
      ];
      return {
        measurements,
        details: {
          connections: CONNECTIONS,
          outageSeconds: OUTAGE_MS / 1000,
          rotations: rotated,
          probeIntervalSeconds: PROBE_INTERVAL_S,
          requestsPerMinute: perMinute.map((rs) => rs.length),
          probesPerMinute: perMinute.map((rs) => rs.filter((r) => r.path === WHOAMI).length),
          appRequestsAfterReturn: app.state.requests.length,
        },
      };
    } finally {
      await operator.stop();
      await standIn.stop();
      await app.stop();
    }
  },
};
