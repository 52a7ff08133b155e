// `npm run bench`: runs the benchmarks, prints a table, writes .modelkeys/bench/latest.json, and exits non-zero
// when a measurement misses its target (see test/bench/README.md). `npm run bench -- plan-throughput` runs one.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { appOutage } from "./app-outage.ts";
import { auditAllNamespaces } from "./audit-all-namespaces.ts";
import { type BenchCluster, startBenchCluster } from "./cluster.ts";
import { connectionsReady } from "./connections-ready.ts";
import { foreignMetadata } from "./foreign-metadata.ts";
import {
  type Bench,
  type BenchOutput,
  describeTarget,
  type Measurement,
  meetsTarget,
  round,
} from "./measure.ts";
import { planThroughput } from "./plan-throughput.ts";
import { pulumiStateSize } from "./pulumi-state-size.ts";
import { scale } from "./scale.ts";
import { secretMemory } from "./secret-memory.ts";
import { writeCost } from "./write-cost.ts";

const RESULTS = join(REPO_ROOT, ".modelkeys", "bench", "latest.json");

type Entry =
  | { bench: Bench<unknown>; needsCluster: false }
  | { bench: Bench<BenchCluster>; needsCluster: true };

// Pure first, so the control plane's start does not share the CPU with it.
const ENTRIES: Entry[] = [
  { bench: planThroughput, needsCluster: false },
  { bench: connectionsReady, needsCluster: true },
  { bench: secretMemory, needsCluster: true },
  { bench: auditAllNamespaces, needsCluster: true },
  { bench: appOutage, needsCluster: true },
  { bench: pulumiStateSize, needsCluster: true },
  { bench: foreignMetadata, needsCluster: true },
  // Its own control plane (with the audit log), after the shared one is stopped.
  { bench: scale, needsCluster: false },
  { bench: writeCost, needsCluster: false },
];

interface Result extends BenchOutput {
  bench: string;
  description: string;
  durationMs: number;
  error?: string;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function table(results: Result[]): string {
  const rows: string[][] = [["bench", "measurement", "value", "unit", "target", ""]];
  for (const r of results) {
    if (r.error) rows.push([r.bench, "FAILED", "", "", "", r.error]);
    for (const m of r.measurements) {
      const verdict = m.target ? (meetsTarget(m) ? "ok" : "MISSED") : "";
      rows.push([r.bench, m.name, String(m.value), m.unit, describeTarget(m.target), verdict]);
    }
  }
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col === 2 ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0)))
      .join("  ")
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = only.filter((name) => !ENTRIES.some((e) => e.bench.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown bench ${unknown.join(", ")}; known: ${ENTRIES.map((e) => e.bench.name).join(", ")}\n`,
    );
    return 2;
  }
  const selected = ENTRIES.filter((e) => only.length === 0 || only.includes(e.bench.name));
  const started = Date.now();
  const results: Result[] = [];
  let cluster: BenchCluster | undefined;
  let clusterStartupMs: number | undefined;
  try {
    for (const entry of selected) {
      const { bench } = entry;
      process.stdout.write(`[bench] ${bench.name}: ${bench.description}\n`);
      const t0 = Date.now();
      try {
        let output: BenchOutput;
        if (entry.needsCluster) {
          if (!cluster) {
            process.stdout.write("[bench] starting a local control plane for the benchmarks\n");
            cluster = await startBenchCluster();
            clusterStartupMs = cluster.startupMs;
            process.stdout.write(`[bench] control plane ready in ${round(cluster.startupMs / 1000)} s\n`);
          }
          output = await entry.bench.run(cluster);
        } else {
          output = await entry.bench.run(undefined);
        }
        results.push({
          bench: bench.name,
          description: bench.description,
          durationMs: Date.now() - t0,
          ...output,
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        results.push({
          bench: bench.name,
          description: bench.description,
          durationMs: Date.now() - t0,
          measurements: [],
          error: message,
        });
      }
      process.stdout.write(`[bench] ${bench.name} took ${round((Date.now() - t0) / 1000)} s\n`);
    }
  } finally {
    await cluster?.stop();
  }

  const missed: Measurement[] = results.flatMap((r) => r.measurements.filter((m) => !meetsTarget(m)));
  const failed = results.filter((r) => r.error);
  const totalMs = Date.now() - started;
  process.stdout.write(`\n${table(results)}\n\n`);
  const summary = {
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: loadavg().map(round),
    totalMs,
    clusterStartupMs,
    passed: missed.length === 0 && failed.length === 0,
    results,
  };
  await mkdir(join(RESULTS, ".."), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`results: ${RESULTS} (total ${round(totalMs / 1000)} s)\n`);
  for (const m of missed)
    process.stdout.write(`MISSED: ${m.name} = ${m.value} ${m.unit} (target ${describeTarget(m.target)})\n`);
  for (const r of failed) process.stdout.write(`FAILED: ${r.bench}: ${r.error}\n`);
  return summary.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
