// The operator as a separate process (operator/main.ts, as the image runs it), with its JSON log lines parsed as
// they arrive, its metrics reachable, and a way to stop it by signal and learn how it exited.
import { type ChildProcess, spawn } from "node:child_process";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";

/** One parsed log line (pino JSON); `time` is the ms since the epoch when the process wrote it. */
export interface LogEntry {
  time: number;
  level: number;
  event?: string;
  [field: string]: unknown;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OperatorProcess {
  /** The `--identity` it was started with (its name in the Lease). */
  identity: string;
  child: ChildProcess;
  /** Parsed log lines so far, oldest first. */
  logs(): LogEntry[];
  /** Log lines with this `event`. */
  events(event: string): LogEntry[];
  /** Everything written to stdout and stderr that was not a JSON log line (for failure messages). */
  otherOutput(): string;
  /** The /metrics URL, once the process logged `http.listening`. */
  metricsUrl(): string | undefined;
  /** Fetches /metrics and returns the summed value of each `name{labels}` sample by metric name. */
  metricTotals(): Promise<Map<string, number>>;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  running(): boolean;
  /** Sends `signal` if still running; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

export interface OperatorProcessOptions {
  identity: string;
  /** Command-line flags besides `--identity`. */
  flags: string[];
  /** Environment additions; the parent's KUBECONFIG, POD_* and MODELKEYS_* variables are never passed on. */
  env?: Record<string, string>;
  /**
   * Run the compiled JavaScript (`node --enable-source-maps out/operator/main.js`, as the image does; `npm run
   * build` first) instead of the TypeScript under tsx (which adds about 16 MiB of RSS). @default false
   */
  compiled?: boolean;
}

/** The parent's environment without anything that would point the operator elsewhere or configure it. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const configures =
      ["KUBECONFIG", "KUBERNETES_SERVICE_HOST", "POD_NAME", "POD_NAMESPACE", "TEST_KUBECONFIG"].includes(
        key,
      ) ||
      (key.startsWith("MODELKEYS_") && key !== "MODELKEYS_CACHE");
    if (!configures) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts `node --import tsx operator/main.ts --identity=<identity> <flags>` in the repository root (or the compiled
 * entry point, see {@link OperatorProcessOptions.compiled}).
 *
 * Guarantees: every complete stdout line that parses as a JSON object is kept as a {@link LogEntry}; anything
 * else is kept as text. Caveats: the caller must stop the process (e.g. in afterAll); nothing here does.
 */
export function startOperatorProcess(options: OperatorProcessOptions): OperatorProcess {
  const entry = options.compiled
    ? ["--enable-source-maps", "out/operator/main.js"]
    : ["--import", "tsx", "operator/main.ts"];
  const child = spawn(process.execPath, [...entry, `--identity=${options.identity}`, ...options.flags], {
    cwd: REPO_ROOT,
    env: cleanEnv(options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const entries: LogEntry[] = [];
  let other = "";
  let partial = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
          const entry = parsed as LogEntry;
          // The operator logs ISO times; keep them comparable with Date.now().
          entries.push({
            ...entry,
            time: typeof entry.time === "string" ? Date.parse(entry.time) : entry.time,
          });
          continue;
        }
      } catch {
        // not a log line
      }
      other += `${line}\n`;
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    other += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  const metricsUrl = () => {
    const listening = entries.find((e) => e.event === "http.listening");
    return typeof listening?.metrics === "string" ? `http://${listening.metrics}` : undefined;
  };

  return {
    identity: options.identity,
    child,
    logs: () => entries,
    events: (event) => entries.filter((e) => e.event === event),
    otherOutput: () => other,
    metricsUrl,
    async metricTotals() {
      const url = metricsUrl();
      if (!url) throw new Error(`${options.identity} has not logged its metrics address yet`);
      const response = await fetch(`${url}/metrics`);
      if (!response.ok) throw new Error(`${options.identity} /metrics answered ${response.status}`);
      return sumSamples(await response.text());
    },
    exited,
    running,
    async stop(signal = "SIGTERM") {
      if (running()) child.kill(signal);
      return exited;
    },
  };
}

/** Sums the samples of each metric in Prometheus text format (histogram parts keep their suffixes). */
export function sumSamples(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const name = match[1] as string;
    totals.set(name, (totals.get(name) ?? 0) + Number(match[3]));
  }
  return totals;
}
