// Benchmark (d): the operator at fleet scale, as its own process against the local control plane (audit log on)
// and the app's contract server, next to a bare script (issue 8's yardstick) and a floor script (what this API
// must do at the least) on fleets of their own (reference-scripts.ts).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type KubeConfig, Watch } from "@kubernetes/client-node";
import { INSTALL, OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS } from "../../cdk8s/names.ts";
import type { ProviderConnection } from "../../crds/index.ts";
import { type AppServer, startAppServer } from "../../local/app/server.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { startOpenAIStandIn } from "../../local/providers/index.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { waitFor } from "../support/wait.ts";
import { type BenchCluster, startBenchCluster } from "./cluster.ts";
import { createAcme, createCustomConnection, inParallel } from "./fleet.ts";
import { type Bench, type Measurement, percentile, round } from "./measure.ts";
import { ownCpuSeconds, processCpuSeconds, processRssBytes } from "./process-cpu.ts";
import { bareScript, floorScript } from "./reference-scripts.ts";

const GROUP = { group: "modelkeys.dev", version: "v1alpha1" };
const MiB = 1024 * 1024;
/** The bare script's and the operator's work at once (`--concurrency`): MODELKEYS_BENCH_CONCURRENCY, default 4. */
const CONCURRENCY = Number(process.env.MODELKEYS_BENCH_CONCURRENCY ?? 4);
const SETUP_CONCURRENCY = 32;
const IDLE_MS = Number(process.env.MODELKEYS_BENCH_IDLE_MS ?? 120_000);
const ROTATIONS_PER_SECOND = 10;
const ROTATION_SECONDS = 20;
/**
 * How the operator runs: "compiled" (default: `npm run build`, then `node out/operator/main.js` as the image does)
 * or "tsx" (the TypeScript as `npm start` runs it; about 16 MiB more RSS). MODELKEYS_BENCH_OPERATOR.
 */
const OPERATOR_ENTRY = process.env.MODELKEYS_BENCH_OPERATOR === "tsx" ? "tsx" : "compiled";
/** Endpoints spread over loopback addresses × model names: every connection has its own (endpoint, model). */
const HOSTS = 250;
/**
 * Whether the cluster has the install's finalizer policy (cdk8s/finalizer-policy.ts), as the Helm chart installs
 * it on a cluster that serves MutatingAdmissionPolicy: connections are created with the finalizer, and neither
 * the operator nor the floor script writes it. MODELKEYS_BENCH_FINALIZER_POLICY=0 runs without, as on a cluster
 * without the API (dist/install.yaml alone).
 */
const FINALIZER_POLICY = process.env.MODELKEYS_BENCH_FINALIZER_POLICY !== "0";

/** The fleet sizes to run: MODELKEYS_BENCH_SCALE=1000,10000 (default 1000 for a quick run). */
export function scaleSizes(): number[] {
  const text = process.env.MODELKEYS_BENCH_SCALE ?? "1000";
  const sizes = text.split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bad MODELKEYS_BENCH_SCALE: ${text}`);
  return sizes;
}

type Conditions = { conditions?: { type: string; status: string }[] } | undefined;
const isReady = (status: Conditions) =>
  status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

interface AuditLine {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string };
  stageTimestamp: string;
  responseStatus?: { code?: number };
}

export const scale: Bench<undefined> = {
  name: "scale",
  description: `the operator process at N = ${scaleSizes().join(", ")} Custom connections vs a bare script (MODELKEYS_BENCH_SCALE)`,
  async run() {
    const measurements: Measurement[] = [];
    const details: Record<string, unknown> = {
      operatorEntry: OPERATOR_ENTRY,
      finalizerPolicy: FINALIZER_POLICY,
    };
    if (OPERATOR_ENTRY === "compiled") {
      process.stderr.write("[bench] scale: compiling the operator (npm run build)\n");
      execFileSync(
        process.execPath,
        [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "inherit"],
        },
      );
    }
    for (const n of scaleSizes()) {
      const result = await runOne(n);
      measurements.push(...result.measurements);
      details[`n${n}`] = result.details;
      // Kept as each size finishes: a long run stopped at N = 10,000 still leaves N = 1,000's figures.
      await mkdir(join(REPO_ROOT, ".modelkeys", "bench"), { recursive: true });
      await writeFile(
        join(REPO_ROOT, ".modelkeys", "bench", `scale-${n}.json`),
        `${JSON.stringify({ measurements: result.measurements, details: result.details }, null, 2)}\n`,
      );
    }
    return { measurements, details };
  },
};

/** One progress line on stderr (a run at N = 10,000 takes many minutes). */
const phase = (n: number, text: string) => process.stderr.write(`[bench] scale N=${n}: ${text}\n`);

async function runOne(n: number): Promise<{ measurements: Measurement[]; details: Record<string, unknown> }> {
  const cluster = await startBenchCluster({ auditLog: true, finalizerPolicy: FINALIZER_POLICY });
  const auditLogPath = cluster.auditLogPath as string;
  const app = await startAppServer({ host: "127.0.0.1" });
  const key = `bench-key-${randomBytes(8).toString("hex")}`;
  const models = Array.from({ length: Math.ceil(n / HOSTS) }, (_, i) => `m-${i}`);
  const standIn = await startOpenAIStandIn({ host: "0.0.0.0" }, { keys: [key], models });
  const port = new URL(standIn.url).port;
  const token = randomBytes(20).toString("hex");
  app.state.addUser({ role: "owner", organization: 1, legacyToken: token });
  // The bare and floor scripts work in organizations of their own: their records must not be the operator's to
  // adopt.
  const bareToken = randomBytes(20).toString("hex");
  app.state.addUser({ role: "owner", organization: 2, legacyToken: bareToken });
  const floorToken = randomBytes(20).toString("hex");
  app.state.addUser({ role: "owner", organization: 3, legacyToken: floorToken });
  const bareAfterToken = randomBytes(20).toString("hex");
  app.state.addUser({ role: "owner", organization: 4, legacyToken: bareAfterToken });
  const processes: OperatorProcess[] = [];
  try {
    // Every fleet first, so that the scripts and the operator each meet 3N connections and 3N Secrets in etcd
    // and the API server's caches (a script run before the other fleets existed would meet a lighter control plane).
    phase(n, "creating the bare and floor scripts' objects");
    const bareNs = await setup(cluster, n, key, port, token, "scale-bare");
    const floorNs = await setup(cluster, n, key, port, token, "scale-floor");
    // The bare script once more after the operator: how far the control plane's speed drifted in between.
    const bareAfterNs = await setup(cluster, n, key, port, token, "scale-bare-after");
    phase(n, "creating the operator's objects");
    const opNs = await cluster.createNamespace("scale-op");
    await createAcme(cluster.admin, opNs, app.url, token);
    await fleet(cluster, opNs, n, key, port);
    // The scripts on their own namespaces and objects, as the operator's identity under the install's RBAC.
    const script = async (name: string, run: typeof bareScript, namespace: string, appToken: string) => {
      phase(n, `running the ${name} script`);
      const controlPlaneCpu = cluster.cpuSeconds();
      const result = await run({
        kc: cluster.operatorKc,
        app,
        token: appToken,
        namespace,
        concurrency: CONCURRENCY,
      });
      const cpu = { controlPlane: round(cluster.cpuSeconds() - controlPlaneCpu), bench: round(result.cpuS) };
      phase(n, `${name} script: ${result.ms} ms, CPU seconds ${JSON.stringify(cpu)}`);
      return { ...result, cpu };
    };
    const bare = await script("bare", bareScript, bareNs, bareToken);
    const floor = await script("floor", floorScript, floorNs, floorToken);
    const bareCpu = bare.cpu;
    app.state.requests.length = 0;

    phase(n, "baseline RSS");
    // Baseline: the operator with one Organization and no connection, in a namespace of its own.
    const baselineNs = await cluster.createNamespace("scale-baseline");
    await createAcme(cluster.admin, baselineNs, app.url, token);
    const baseline = startOperator(cluster, baselineNs, "baseline");
    processes.push(baseline);
    await waitFor(() => baseline.events("controller.started").length > 0, {
      timeoutMs: 60_000,
      description: "the baseline operator started",
    });
    await waitFor(async () => isReady((await getOrganization(cluster, baselineNs)).status), {
      timeoutMs: 60_000,
      description: "the Organization Ready",
    });
    await new Promise((r) => setTimeout(r, 5000)); // settle: the measurement is RSS at rest
    const rssBaseline = rss(baseline);
    const baselineHeap = await heapOf(baseline);
    await baseline.stop();

    // The operator from cold, on its fleet.
    phase(n, "operator converging");
    app.state.requests.length = 0;
    const readyAt = await watchReady(cluster.admin.kc, opNs);
    const spawnedAt = Date.now();
    const operator = startOperator(cluster, opNs, "fleet");
    processes.push(operator);
    await waitFor(() => operator.logs().length > 0, {
      timeoutMs: 60_000,
      description: "the operator's first log",
    });
    const started = operator.logs()[0]?.time ?? Date.now();
    const cpuAtStart = cpuSeconds(operator);
    const controlPlaneCpuAtStart = cluster.cpuSeconds();
    const benchCpuAtStart = ownCpuSeconds();
    const auditFrom = new Date(started).toISOString();
    // How far it got, every 30 s: a run that does not finish still says where it stood.
    const progress = setInterval(
      () =>
        phase(
          n,
          `${readyAt.ready.size} of ${n} Ready after ${Math.round((Date.now() - started) / 1000)} s, ` +
            `operator RSS ${Math.round(rss(operator) / MiB)} MiB, load ${loadavg()[0]?.toFixed(1)}`,
        ),
      30_000,
    );
    try {
      await waitFor(() => readyAt.ready.size >= n, {
        timeoutMs: Math.max(600_000, n * 200),
        intervalMs: 100,
        description: `${n} connections Ready`,
      });
    } finally {
      clearInterval(progress);
    }
    const lastReadyAt = Math.max(...readyAt.ready.values());
    const convergedMs = lastReadyAt - started;
    const startup = startupPhases(operator, spawnedAt, started, lastReadyAt);
    // CPU the operator used while converging: on 2 shared cores, what it cannot get is time waited.
    const convergeCpuS = cpuSeconds(operator) - cpuAtStart;
    // Where the machine's CPU went (the bench's own: the app and provider stand-ins, the Ready watch).
    const operatorRunCpu = {
      controlPlane: round(cluster.cpuSeconds() - controlPlaneCpuAtStart),
      operator: round(convergeCpuS),
      bench: round(ownCpuSeconds() - benchCpuAtStart),
    };
    phase(n, `start-up: ${JSON.stringify(startup)}`);
    phase(
      n,
      `CPU seconds: bare run ${JSON.stringify(bareCpu)}, operator run ${JSON.stringify(operatorRunCpu)}`,
    );
    // MODELKEYS_BENCH_LOG_DIR keeps the operator's log lines of the run (for a closer look at its timeline).
    if (process.env.MODELKEYS_BENCH_LOG_DIR) {
      await mkdir(process.env.MODELKEYS_BENCH_LOG_DIR, { recursive: true });
      await writeFile(
        join(process.env.MODELKEYS_BENCH_LOG_DIR, `scale-${n}-operator.jsonl`),
        `${operator
          .logs()
          .map((l) => JSON.stringify(l))
          .join("\n")}\n`,
      );
    }
    const readyRss = rss(operator);
    const readyHeap = await heapOf(operator);
    const appRequests = app.state.requests.length;
    const appByRoute = countBy(
      app.state.requests.map((r) => `${r.method} ${r.path.replace(/\d+/g, "{id}")}`),
    );
    // Writes by verb and resource, from the audit log, while converging (the Lease's apart).
    await new Promise((r) => setTimeout(r, 2000)); // the audit log's last lines
    const convergeEnd = new Date().toISOString();
    const writes = await auditWrites(auditLogPath, auditFrom, convergeEnd);
    const writesByKind = countBy(writes.filter((w) => w.objectRef?.resource !== "leases").map(describeWrite));
    const objectWrites = writes.filter((w) => w.objectRef?.resource !== "leases");
    const throttledWrites = writes.filter((w) => w.responseStatus?.code === 429).length;
    const bareAfter = await script(
      "bare (again, after the operator)",
      bareScript,
      bareAfterNs,
      bareAfterToken,
    );

    // Idle.
    phase(n, `converged in ${convergedMs} ms; idling`);
    app.state.requests.length = 0;
    const idleFrom = new Date().toISOString();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleTo = new Date().toISOString();
    const idleWrites = await auditWrites(auditLogPath, idleFrom, idleTo);
    const idleAppRequests = app.state.requests.length;
    const idleRss = rss(operator);
    const idleHeap = await heapOf(operator);

    // Rotation with N present: 10 Secret changes a second, each timed until the app holds the new key.
    phase(n, "rotations");
    const rotation = await rotations(cluster, app, opNs, n, standIn.behaviour.keys);
    const metrics = await operator.metricTotals();
    readyAt.stop();
    const exited = !operator.running();
    await operator.stop();

    const restart = await restartOnReadyFleet(cluster, app, opNs, n, auditLogPath, processes);

    const restarts = operator.events("informer.restarting").length;
    const lostLease = operator.events("leader.lost").length;
    const ratio = convergedMs / bare.ms;
    const p = (name: string) => `N=${n}: ${name}`;
    const measurements: Measurement[] = [
      { name: p("operator: all Ready"), value: round(convergedMs / 1000), unit: "s" },
      { name: p("bare script: all Ready"), value: round(bare.ms / 1000), unit: "s" },
      { name: p("ratio operator / bare"), value: round(ratio), unit: "×", target: { atMost: 2 } },
      // The same script on a fleet of its own, run after the operator: the control plane's drift over the run.
      { name: p("bare script again, after the operator"), value: round(bareAfter.ms / 1000), unit: "s" },
      { name: p("floor script: all Ready"), value: round(floor.ms / 1000), unit: "s" },
      // What this API and its guarantees cost at the least, and the operator's own overhead above that.
      { name: p("ratio floor / bare"), value: round(floor.ms / bare.ms), unit: "×" },
      { name: p("ratio operator / floor"), value: round(convergedMs / floor.ms), unit: "×" },
      {
        name: p("API writes per object (Events apart)"),
        value: round(objectWrites.filter((w) => w.objectRef?.resource !== "events").length / n),
        unit: "writes",
        target: { atMost: 2 },
      },
      {
        name: p("Event writes per object"),
        value: round(objectWrites.filter((w) => w.objectRef?.resource === "events").length / n),
        unit: "writes",
        target: { atMost: 1 },
      },
      {
        name: p("app requests per object"),
        value: round(appRequests / n),
        unit: "req",
        target: { atMost: 2 },
      },
      {
        name: p("idle writes in 2 min (Lease apart)"),
        value: idleWrites.filter((w) => w.objectRef?.resource !== "leases").length,
        unit: "writes",
        target: { atMost: 0 },
      },
      { name: p("idle app requests"), value: idleAppRequests, unit: "req", target: { atMost: 0 } },
      { name: p("rotation p50"), value: round(rotation.p50), unit: "ms" },
      { name: p("rotation p99"), value: round(rotation.p99), unit: "ms", target: { atMost: 2000 } },
      { name: p("RSS at baseline"), value: round(rssBaseline / MiB), unit: "MiB", target: { atMost: 120 } },
      {
        name: p("RSS at Ready"),
        value: round(readyRss / MiB),
        unit: "MiB",
        ...(n >= 10_000 ? { target: { atMost: 256 } } : {}),
      },
      {
        name: p("RSS after idling"),
        value: round(idleRss / MiB),
        unit: "MiB",
        ...(n >= 10_000 ? { target: { atMost: 256 } } : {}),
      },
      {
        name: p("sockets opened to the API server"),
        value: metrics.get("modelkeys_kube_connections_opened_total") ?? Number.NaN,
        unit: "sockets",
      },
      {
        // The operator's own count (every verb; the transport repeats them) and the audit log's (writes).
        name: p("429 answers to the operator"),
        value: Math.max(metrics.get("modelkeys_kube_throttled_total") ?? 0, throttledWrites),
        unit: "answers",
        target: { atMost: 0 },
      },
      { name: p("informer restarts"), value: restarts, unit: "restarts", target: { atMost: 0 } },
      { name: p("leases lost, exits"), value: lostLease + (exited ? 1 : 0), unit: "", target: { atMost: 0 } },
      {
        name: p("restart on the Ready fleet: caches filled"),
        value: round(restart.syncedMs / 1000),
        unit: "s",
      },
      { name: p("restart: every object looked at"), value: round(restart.caughtUpMs / 1000), unit: "s" },
      {
        name: p("restart: peak RSS"),
        value: round(restart.peakRss / MiB),
        unit: "MiB",
        ...(n >= 10_000 ? { target: { atMost: 256 } } : {}),
      },
      {
        name: p("restart: writes to connections, Secrets, Events"),
        value: restart.connectionWrites,
        unit: "writes",
        target: { atMost: 0 },
      },
      { name: p("restart: app requests"), value: restart.appRequests, unit: "req" },
    ];
    return {
      measurements,
      details: {
        n,
        concurrency: CONCURRENCY,
        bare,
        bareAfter,
        floor,
        convergedMs,
        writesByKind,
        appByRoute,
        idleWrites: countBy(idleWrites.map(describeWrite)),
        rotation,
        rssBytes: { baseline: rssBaseline, ready: readyRss, idle: idleRss },
        restart,
        startup,
        convergeCpuS,
        // CPU seconds by process during the bare script and during the operator's convergence.
        cpuByProcess: { bare: bareCpu, floor: floor.cpu, operator: operatorRunCpu, bareAfter: bareAfter.cpu },
        // What V8 holds of that RSS (prom-client's process metrics): used and total heap, external memory.
        heapBytes: { baseline: baselineHeap, ready: readyHeap, idle: idleHeap },
        throttled: metrics.get("modelkeys_kube_throttled_total"),
        throttledWrites,
        eventsDropped: metrics.get("modelkeys_events_dropped_total"),
        reconciles: metrics.get("modelkeys_reconcile_total"),
        // Time in garbage collection over the whole run (prom-client's nodejs_gc_duration_seconds).
        gcSeconds: metrics.get("nodejs_gc_duration_seconds_sum"),
        cpuSeconds: metrics.get("process_cpu_seconds_total"),
      },
    };
  } catch (error) {
    for (const p of processes) {
      const tail = p
        .logs()
        .filter((l) => l.level >= 40)
        .slice(-5)
        .map((l) => JSON.stringify(l))
        .join("\n");
      if (tail)
        process.stderr.write(`[bench] ${p.identity} warnings:\n${tail}\n${p.otherOutput().slice(-2000)}\n`);
    }
    throw error;
  } finally {
    for (const p of processes) await p.stop();
    await standIn.stop();
    await app.stop();
    await cluster.stop();
  }
}

function startOperator(cluster: BenchCluster, namespace: string, identity: string): OperatorProcess {
  return startOperatorProcess({
    identity: `bench-${identity}`,
    compiled: OPERATOR_ENTRY === "compiled",
    // The install's Node.js and malloc settings, so RSS is what a pod would see; MODELKEYS_BENCH_NODE_OPTIONS adds
    // more (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    env: {
      NODE_OPTIONS: `${OPERATOR_NODE_OPTIONS} ${process.env.MODELKEYS_BENCH_NODE_OPTIONS ?? ""}`.trim(),
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? OPERATOR_MALLOC_ARENA_MAX,
    },
    flags: [
      `--kubeconfig=${cluster.operatorKubeconfigPath}`,
      `--namespace=${namespace}`,
      `--concurrency=${CONCURRENCY}`,
      "--metrics-port=0",
      "--health-port=0",
      "--egress-allow=127.0.0.0/8",
      "--log-level=info",
      // As the install runs it: the catalogue override's ConfigMap is watched (it does not exist here).
      `--catalogue-config-map=${INSTALL.namespace}/${INSTALL.catalogueConfigMap}`,
      // More flags for an experiment (e.g. "--kube-qps=1000 --kube-burst=2000"); the figures are for defaults.
      ...(process.env.MODELKEYS_BENCH_OPERATOR_FLAGS ?? "").split(" ").filter(Boolean),
    ],
  });
}

/**
 * Where the operator's convergence time went, in ms from its first log line (the ratio's start): leadership,
 * caches filled (controller.started), the first and last app create; and, apart, the module load before the
 * first log line (not counted in the ratio).
 */
function startupPhases(p: OperatorProcess, spawnedAt: number, started: number, lastReadyAt: number) {
  const at = (event: string, which: "first" | "last" = "first") => {
    const entries = p.events(event);
    const entry = which === "first" ? entries[0] : entries[entries.length - 1];
    return entry ? entry.time - started : undefined;
  };
  return {
    moduleLoadMs: started - spawnedAt,
    leaderAcquiredMs: at("leader.acquired"),
    controllerStartedMs: at("controller.started"),
    firstCreateMs: at("connection.create"),
    lastCreateMs: at("connection.create", "last"),
    lastReadyMs: lastReadyAt - started,
  };
}

/** CPU seconds (user + system) the operator process has used so far. */
function cpuSeconds(p: OperatorProcess): number {
  return processCpuSeconds(p.child.pid);
}

/** The operator's V8 heap (used, total) and external memory now, from its /metrics. */
async function heapOf(p: OperatorProcess): Promise<Record<string, number | undefined>> {
  const metrics = await p.metricTotals().catch(() => new Map<string, number>());
  return {
    used: metrics.get("nodejs_heap_size_used_bytes"),
    total: metrics.get("nodejs_heap_size_total_bytes"),
    external: metrics.get("nodejs_external_memory_bytes"),
  };
}

/** The operator's resident set size now, in bytes; NaN once it is gone. */
function rss(p: OperatorProcess): number {
  return processRssBytes(p.child.pid);
}

async function getOrganization(cluster: BenchCluster, namespace: string) {
  return (await cluster.admin.custom.getNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: "organizations",
    name: "acme",
  })) as { status?: Conditions };
}

/** A namespace with the Organization's token Secret and `n` connections, each with its own Secret. */
async function setup(
  cluster: BenchCluster,
  n: number,
  key: string,
  port: string,
  token: string,
  prefix: string,
) {
  const namespace = await cluster.createNamespace(prefix);
  await cluster.admin.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "ls" }, stringData: { token } },
  });
  await fleet(cluster, namespace, n, key, port);
  return namespace;
}

/** `n` Secrets and `n` Custom connections, each with its own endpoint host and model. */
async function fleet(cluster: BenchCluster, namespace: string, n: number, key: string, port: string) {
  const { core, custom } = cluster.admin;
  await inParallel(n, SETUP_CONCURRENCY, async (i) => {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: `llm-${i}` }, stringData: { key } },
    });
    await createCustomConnection(custom, namespace, `llm-${i}`, {
      model: `m-${Math.floor(i / HOSTS)}`,
      endpoint: `http://127.0.0.${1 + (i % HOSTS)}:${port}/v1`,
      secret: { name: `llm-${i}`, key: "key" },
    });
  });
}

/**
 * A new operator process on the fleet the last one left Ready (a rollout, an OOM kill, a new leader): how long
 * until its caches are filled and until it has looked at every object (its `controller.caught_up`), its peak RSS
 * (sampled every 50 ms) meanwhile, and what it wrote and asked the app.
 */
async function restartOnReadyFleet(
  cluster: BenchCluster,
  app: AppServer,
  namespace: string,
  n: number,
  auditLogPath: string,
  processes: OperatorProcess[],
) {
  phase(n, "restart on the Ready fleet");
  app.state.requests.length = 0;
  const from = new Date().toISOString();
  const restarted = startOperator(cluster, namespace, "restart");
  processes.push(restarted);
  // RSS from /proc every 50 ms (a scrape of /metrics is CPU of its own at 10,000): its peak, and each second's
  // sample for the timeline.
  const spawned = Date.now();
  let peakRss = 0;
  const timeline: number[][] = [];
  const sampler = setInterval(() => {
    if (!restarted.running()) return;
    const resident = rss(restarted);
    peakRss = Math.max(peakRss, resident);
    const at = Date.now() - spawned;
    if (at >= (timeline.length + 1) * 1000) timeline.push([at, Math.round(resident / MiB)]);
  }, 50);
  try {
    await waitFor(() => restarted.events("controller.started").length > 0, {
      timeoutMs: 120_000,
      description: "the restarted operator's caches filled",
    });
    const first = restarted.logs()[0]?.time ?? Date.now();
    const syncedMs = (restarted.events("controller.started")[0]?.time ?? first) - first;
    // Its own word that every object has been looked at (polling /metrics instead would measure the polling).
    await waitFor(() => restarted.events("controller.caught_up").length > 0, {
      timeoutMs: Math.max(300_000, n * 60),
      intervalMs: 200,
      description: "the restarted operator caught up with its backlog",
    });
    const caughtUpMs = (restarted.events("controller.caught_up")[0]?.time ?? first) - first;
    await new Promise((r) => setTimeout(r, 2000)); // the audit log's last lines
    const writes = (await auditWrites(auditLogPath, from, new Date().toISOString())).filter(
      (w) => w.objectRef?.resource !== "leases",
    );
    // The Organization's app report may be written (it was last listed before the fleet existed); nothing of a
    // connection changed, so nothing of theirs may be.
    const ofConnections = writes.filter((w) =>
      ["providerconnections", "secrets", "events"].includes(w.objectRef?.resource ?? ""),
    );
    return {
      syncedMs,
      peakRss,
      connectionWrites: ofConnections.length,
      caughtUpMs,
      // [ms since spawn, RSS in MiB]
      timeline,
      writesByKind: countBy(writes.map(describeWrite)),
      appRequests: app.state.requests.length,
    };
  } finally {
    clearInterval(sampler);
    await restarted.stop();
  }
}

/** Watches the namespace's connections and notes when each is first seen Ready. */
async function watchReady(kc: KubeConfig, namespace: string) {
  const ready = new Map<string, number>();
  const watch = new Watch(kc);
  const abort = await watch.watch(
    `/apis/modelkeys.dev/v1alpha1/namespaces/${namespace}/providerconnections`,
    {},
    (_type, c: ProviderConnection) => {
      if (isReady(c.status) && !ready.has(c.metadata.name)) ready.set(c.metadata.name, Date.now());
    },
    () => undefined,
  );
  return { ready, stop: () => abort.abort() };
}

/** Changes one connection's Secret 10 times a second and times each until the app holds the new key. */
async function rotations(
  cluster: BenchCluster,
  app: AppServer,
  namespace: string,
  n: number,
  keys: string[],
) {
  const pending = new Map<number, { value: string; at: number; id: number }>();
  const latencies: number[] = [];
  const ids = new Map<string, number>();
  const list = (await cluster.admin.custom.listNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: "providerconnections",
  })) as { items: ProviderConnection[] };
  for (const c of list.items) ids.set(c.metadata.name, c.status?.appConnectionId as number);
  const total = ROTATIONS_PER_SECOND * ROTATION_SECONDS;
  const poll = setInterval(() => {
    for (const [i, r] of pending) {
      if (app.state.getConnection(r.id)?.secrets.api_key === r.value) {
        latencies.push(Date.now() - r.at);
        pending.delete(i);
      }
    }
  }, 10);
  try {
    for (let k = 0; k < total; k++) {
      const i = Math.floor((k * 7919) % n);
      if (pending.has(i)) continue;
      const value = `rotated-${k}-${randomBytes(6).toString("hex")}`;
      keys.push(value);
      const at = Date.now();
      pending.set(i, { value, at, id: ids.get(`llm-${i}`) as number });
      void cluster.admin.core.replaceNamespacedSecret({
        name: `llm-${i}`,
        namespace,
        body: { metadata: { name: `llm-${i}` }, stringData: { key: value } },
      });
      await new Promise((r) => setTimeout(r, 1000 / ROTATIONS_PER_SECOND));
    }
    await waitFor(() => pending.size === 0, {
      timeoutMs: 120_000,
      intervalMs: 50,
      description: "every rotation in the app",
    });
  } finally {
    clearInterval(poll);
  }
  return {
    count: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: Math.max(...latencies),
  };
}

/** The operator's writes between `from` and `to` in the audit log, read line by line (it reaches 100s of MB). */
async function auditWrites(path: string, from: string, to: string): Promise<AuditLine[]> {
  const lines: AuditLine[] = [];
  for await (const line of createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (!line.includes("modelkeys-operator")) continue;
    const entry = JSON.parse(line) as AuditLine;
    if (!entry.user.username.includes("modelkeys-operator")) continue;
    if (entry.stageTimestamp < from || entry.stageTimestamp > to) continue;
    lines.push(entry);
  }
  return lines;
}

function describeWrite(w: AuditLine): string {
  const resource = w.objectRef?.resource ?? "?";
  return `${w.verb} ${resource}${w.objectRef?.subresource ? `/${w.objectRef.subresource}` : ""} ${w.responseStatus?.code ?? ""}`.trim();
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
