// Benchmark: `kubectl modelkeys audit -A` over 200 ProviderConnections (4 namespaces, their Organizations, statuses
// as the operator writes them), as a user runs it: a new process each time, from the bundle npm and krew ship.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { bundle } from "../../kubectl-modelkeys/build.ts";
import { AuditReport } from "../../kubectl-modelkeys/src/report.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { organizationRequest } from "../support/world.ts";
import type { BenchCluster } from "./cluster.ts";
import { createCustomConnection } from "./fleet.ts";
import { type Bench, percentile, round } from "./measure.ts";

const PLUGIN_ENTRY = join(REPO_ROOT, "kubectl-modelkeys", "bin", "kubectl-modelkeys.ts");
const NAMESPACES = 4;
const PER_NAMESPACE = 50;
const RUNS = 5;
const GROUP = { group: "modelkeys.dev", version: "v1alpha1" };
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

function timed(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; stdout: string; code: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error && typeof error.code !== "number") reject(error);
      else resolve({ ms: performance.now() - started, stdout, code: error ? Number(error.code) : 0 });
    });
  });
}

export const auditAllNamespaces: Bench<BenchCluster> = {
  name: "audit-all-namespaces",
  description: `kubectl modelkeys audit -A -o json over ${NAMESPACES * PER_NAMESPACE} connections (a new process per run)`,
  async run(cluster) {
    const { custom } = cluster.admin;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const ready = (status: string, reason: string) => ({
      type: "Ready",
      status,
      reason,
      message: "bench",
      lastTransitionTime: now,
    });
    const ours = new Set<string>();
    for (let n = 0; n < NAMESPACES; n++) {
      const namespace = await cluster.createNamespace("bench-audit");
      ours.add(namespace);
      await custom.createNamespacedCustomObject(
        organizationRequest(namespace, "acme", "https://ls.example", "ls", { maxKeyAge: "90d" }),
      );
      await custom.patchNamespacedCustomObjectStatus(
        {
          ...GROUP,
          namespace,
          plural: "organizations",
          name: "acme",
          body: {
            status: {
              conditions: [ready("True", "Synced")],
              app: {
                reportedTime: now,
                managed: PER_NAMESPACE,
                unmanaged: 1,
                changed: 0,
                offLimits: 0,
                unmanagedRecords: [{ id: 9000 + n, provider: "OpenAI", scope: "Organization" }],
              },
            },
          },
        },
        mergePatch,
      );
      await Promise.all(
        Array.from({ length: PER_NAMESPACE }, async (_, i) => {
          const name = `llm-${i}`;
          await createCustomConnection(custom, namespace, name, {
            model: name,
            endpoint: "http://models.internal/v1",
            secret: { name, key: "api-key" },
          });
          await custom.patchNamespacedCustomObjectStatus(
            {
              ...GROUP,
              namespace,
              plural: "providerconnections",
              name,
              body: {
                status: {
                  scope: "Model",
                  appConnectionId: n * PER_NAMESPACE + i + 1,
                  credentialFingerprint: "sha256:0123456789ab",
                  credentialRotatedTime: i % 10 === 0 ? "2026-01-01T00:00:00Z" : now,
                  models: [{ name, available: true }],
                  availableModels: 1,
                  conditions: [i % 7 === 0 ? ready("False", "InvalidCredentials") : ready("True", "Synced")],
                },
              },
            },
            mergePatch,
          );
        }),
      );
    }
    const dir = await mkdtemp(join(tmpdir(), "modelkeys-bench-audit-"));
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, cluster.admin.kc.exportConfig(), { mode: 0o600 });
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const bundled = await bundle("esm");

    const times: number[] = [];
    let rows = 0;
    for (let run = 0; run < RUNS; run++) {
      const result = await timed(process.execPath, [bundled, "audit", "-A", "-o", "json"], env);
      const report = AuditReport.parse(JSON.parse(result.stdout));
      if (result.code !== 1) throw new Error(`audit exited ${result.code}, expected 1 (findings)`);
      // -A lists every namespace, and the shared cluster holds earlier benchmarks' connections too.
      rows = report.connections.filter((c) => ours.has(c.namespace)).length;
      times.push(result.ms);
    }
    if (rows !== NAMESPACES * PER_NAMESPACE) throw new Error(`audit listed ${rows} connections`);
    // The same from the TypeScript entry (npm link in the repository): Node strips the types at load.
    const fromSource = await timed(process.execPath, [PLUGIN_ENTRY, "audit", "-A", "-o", "json"], env);
    return {
      measurements: [
        {
          name: "audit -A, median",
          value: round(percentile(times, 50) / 1000),
          unit: "s",
          target: { atMost: 5 },
        },
        { name: "audit -A, slowest", value: round(Math.max(...times) / 1000), unit: "s" },
        { name: "audit -A from the .ts entry", value: round(fromSource.ms / 1000), unit: "s" },
      ],
      details: { connections: rows, runsMs: times.map(Math.round), fromSourceMs: Math.round(fromSource.ms) },
    };
  },
};
