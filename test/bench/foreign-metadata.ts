// Benchmark: the operator process on connections that other tools (or a hostile user) annotated heavily: 600
// connections with 200 KiB of someone else's annotation each (120 MB in etcd). Its peak RSS until it has looked
// at every connection, and its RSS after: its caches keep only the metadata it reads, and lists come in pages of a
// few MiB, so neither grows with what others put in metadata. Before both, the same fleet at 1,500 connections
// ended the process (V8 heap out of memory).
import { randomBytes } from "node:crypto";
import { OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS } from "../../cdk8s/names.ts";
import { startAppServer } from "../../local/app/server.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { waitFor } from "../support/wait.ts";
import type { BenchCluster } from "./cluster.ts";
import { createAcme, createCustomConnection, inParallel } from "./fleet.ts";
import { type Bench, round } from "./measure.ts";
import { processRssBytes } from "./process-cpu.ts";

const CONNECTIONS = Number(process.env.MODELKEYS_BENCH_FOREIGN_CONNECTIONS ?? 600);
const ANNOTATION_KIB = 200;
const MiB = 1024 * 1024;

export const foreignMetadata: Bench<BenchCluster> = {
  name: "foreign-metadata",
  description: `operator RSS with ${CONNECTIONS} connections carrying ${ANNOTATION_KIB} KiB of another tool's annotation each`,
  async run(cluster) {
    const { core, custom } = cluster.admin;
    const namespace = await cluster.createNamespace("bench-foreign");
    const app = await startAppServer({ host: "127.0.0.1" });
    const token = randomBytes(20).toString("hex");
    app.state.addUser({ role: "owner", organization: 1, legacyToken: token });
    let operator: OperatorProcess | undefined;
    try {
      await createAcme(cluster.admin, namespace, app.url, token);
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: "llm" }, stringData: { key: "k" } },
      });
      const notes = "x".repeat(ANNOTATION_KIB * 1024 - 64);
      // Nothing listens on port 9: each check fails at once, and the connection reports it.
      await inParallel(CONNECTIONS, 8, (i) =>
        createCustomConnection(
          custom,
          namespace,
          `c-${i}`,
          { model: `m-${i}`, endpoint: "http://127.0.0.1:9/v1", secret: { name: "llm", key: "key" } },
          { annotations: { "example.com/notes": notes } },
        ),
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
        const resident = processRssBytes(running.child.pid);
        if (resident > peak) peak = resident;
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
            value: round(processRssBytes(running.child.pid) / MiB),
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
