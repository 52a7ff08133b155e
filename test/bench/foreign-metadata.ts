// Benchmark: the operator process on connections that other tools (or a hostile user) annotated heavily: 600
// connections with 200 KiB of someone else's annotation each (120 MB in etcd). Its peak RSS until it has looked
// at every connection, and its RSS after: its caches keep only the metadata it reads, and lists come in pages of a
// few MiB, so neither grows with what others put in metadata. Before both, the same fleet at 1,500 connections
// ended the process (V8 heap out of memory).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS } from "../../cdk8s/names.ts";
import { API_VERSION, GROUP, VERSION } from "../../crds/index.ts";
import { startAppServer } from "../../local/app/server.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { waitFor } from "../support/wait.ts";
import type { BenchCluster } from "./cluster.ts";
import { createAcme, inParallel } from "./fleet.ts";
import { type Bench, round } from "./measure.ts";

const CONNECTIONS = Number(process.env.MODELKEYS_BENCH_FOREIGN_CONNECTIONS ?? 600);
const ANNOTATION_KIB = 200;
const MiB = 1024 * 1024;

/** RSS of a process now, in bytes (Linux); 0 once it is gone. */
function rssOf(pid: number | undefined): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
  } catch {
    return 0;
  }
}

export const foreignMetadata: Bench<BenchCluster> = {
  name: "foreign-metadata",
  description: `operator RSS with ${CONNECTIONS} connections carrying ${ANNOTATION_KIB} KiB of another tool's annotation each`,
  async run(cluster) {
    const { core, custom } = cluster.admin;
    const namespace = await cluster.createNamespace("bench-foreign");
    const app = await startAppServer({ host: "127.0.0.1" });
    const token = randomBytes(20).toString("hex");
    app.state.addUser({ role: "owner", organization: 1, legacyToken: token });
    const ours = { group: GROUP, version: VERSION, namespace };
    let operator: OperatorProcess | undefined;
    try {
      await createAcme(cluster.admin, namespace, app.url, token);
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: "llm" }, stringData: { key: "k" } },
      });
      const notes = "x".repeat(ANNOTATION_KIB * 1024 - 64);
      await inParallel(CONNECTIONS, 8, (i) =>
        custom.createNamespacedCustomObject({
          ...ours,
          plural: "providerconnections",
          body: {
            apiVersion: API_VERSION,
            kind: "ProviderConnection",
            metadata: { name: `c-${i}`, annotations: { "example.com/notes": notes } },
            // Nothing listens on port 9: each check fails at once, and the connection reports it.
            spec: {
              organizationRef: { name: "acme" },
              provider: "Custom",
              custom: {
                name: `m-${i}`,
                endpoint: "http://127.0.0.1:9/v1",
                apiKeySecretRef: { name: "llm", key: "key" },
              },
            },
          },
        }),
      );

      const started = Date.now();
      operator = startOperatorProcess({
        identity: "bench-foreign",
        env: { NODE_OPTIONS: OPERATOR_NODE_OPTIONS, MALLOC_ARENA_MAX: OPERATOR_MALLOC_ARENA_MAX },
        flags: [
          `--kubeconfig=${cluster.operatorKubeconfigPath}`,
          `--namespace=${namespace}`,
          "--metrics-port=0",
          "--health-port=0",
          "--egress-allow=127.0.0.0/8",
          "--log-level=info",
        ],
      });
      const running = operator;
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(running.child.pid));
      }, 50);
      try {
        await waitFor(() => !running.running() || running.events("controller.caught_up").length > 0, {
          timeoutMs: 300_000,
          intervalMs: 100,
          description: "the operator looked at every connection",
        });
      } finally {
        clearInterval(sampler);
      }
      if (!running.running()) {
        throw new Error(
          `the operator exited before it looked at every connection: ${running.otherOutput().slice(-400)}`,
        );
      }
      const caughtUpMs = Date.now() - started;
      return {
        measurements: [
          {
            name: "peak RSS until every connection was looked at",
            value: round(peak / MiB),
            unit: "MiB",
            target: { atMost: 256 },
          },
          {
            name: "RSS after",
            value: round(rssOf(running.child.pid) / MiB),
            unit: "MiB",
            target: { atMost: 256 },
          },
          { name: "time until every connection was looked at", value: round(caughtUpMs / 1000), unit: "s" },
        ],
        details: {
          connections: CONNECTIONS,
          annotationKiB: ANNOTATION_KIB,
          foreignMetadataMiB: round((CONNECTIONS * ANNOTATION_KIB) / 1024),
          runsUnder: "tsx (about 16 MiB more RSS than the compiled operator)",
        },
      };
    } finally {
      await operator?.stop();
      await app.stop();
    }
  },
};
