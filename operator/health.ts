// The operator's HTTP endpoints: /healthz and /readyz for the kubelet's probes, /metrics for Prometheus.
// Nothing here reads or serves a secret.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { InformerStatus } from "./kube/informer.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

/** The verdict of one check; `message` says why it fails (no secrets). */
export interface CheckResult {
  ok: boolean;
  message?: string;
}

/** A probe check: a boolean or a result with a reason. */
export type Check = () => boolean | CheckResult;

export interface HealthServerOptions {
  /** Address and ports: `bindAddress`, `healthPort`, `metricsPort`. One server when the ports are equal. */
  config: Pick<Config, "bindAddress" | "healthPort" | "metricsPort">;
  /** What /metrics serves (its text and content type). */
  metrics?: Pick<Metrics, "registry" | "chunks">;
  /** Liveness: the process can make progress. One check or named checks; all must pass. Default: alive. */
  live?: Check | Record<string, Check>;
  /** Readiness: the replica can do its job (see {@link startHealthServer} for a standby's answer). */
  ready?: Check | Record<string, Check>;
  log?: Logger;
}

export interface HealthServer {
  /** e.g. http://127.0.0.1:8081 (serving /healthz and /readyz). */
  healthUrl: string;
  /** e.g. http://127.0.0.1:8080 (serving /metrics). */
  metricsUrl: string;
  healthPort: number;
  metricsPort: number;
  /** From now on /readyz answers 503 "shutting down" (call on SIGTERM). */
  markShuttingDown(): void;
  close(): Promise<void>;
}

/**
 * Starts the health server (/healthz, /livez, /readyz) on `healthPort` and the metrics server (/metrics) on
 * `metricsPort`, both on `bindAddress`; equal ports share one server. Port 0 picks a free port.
 *
 * Guarantees: a probe answers 200 "ok" when every check passes, else 503 with one `[-]name failed: reason` line per
 * failing check (`?verbose` lists passing ones too); a throwing check counts as failing. /metrics serves the
 * operator's own registry in the Prometheus text format.
 * Assumptions (readiness of a standby): the operator serves no traffic, so readiness only paces rollouts. A standby
 * replica (not leading) is ready as soon as it runs: it serves /metrics and stands by to take over, and holding a
 * rollout until it leads would deadlock one. A leader is ready once its informers have synced. Pass checks that
 * say so, e.g. {@link informerReady}, which passes for an informer that was never started.
 * Caveats: liveness must only fail for a state a restart fixes (an informer failing for minutes, see
 * {@link informerLive}); a slow app or provider must never fail it.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { bindAddress, healthPort, metricsPort } = options.config;
  let shuttingDown = false;
  const live = normalise(options.live);
  const ready = normalise(options.ready);

  const handleHealth = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const verbose = new URL(req.url ?? "/", "http://x").searchParams.has("verbose");
    if (path === "/healthz" || path === "/livez") return report(res, "healthz", run(live), verbose);
    const results = run(ready);
    if (shuttingDown) results.unshift(["shutdown", { ok: false, message: "shutting down" }]);
    return report(res, "readyz", results, verbose);
  };
  const handleMetrics = async (res: ServerResponse) => {
    if (!options.metrics) return send(res, 404, "no metrics\n");
    // Streamed piece by piece, waiting for the socket to drain: at 10,000 connections the text is about 6 MB,
    // and a scrape should not hold all of it (and its copies) at once.
    res.writeHead(200, { "content-type": options.metrics.registry.contentType });
    for await (const chunk of options.metrics.chunks()) {
      if (res.destroyed) return; // the scraper hung up
      if (!res.write(chunk)) await drainedOrClosed(res);
    }
    res.end();
  };

  const handler =
    (serveHealth: boolean, serveMetrics: boolean) => (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n");
      if (serveHealth && (path === "/healthz" || path === "/livez" || path === "/readyz"))
        return handleHealth(req, res, path);
      if (serveMetrics && path === "/metrics") {
        return void handleMetrics(res).catch((err) => {
          options.log?.error({ event: "metrics.failed", err });
          // Failed mid-stream: the status is already out, so cut the response rather than leave it hanging.
          if (!res.headersSent) send(res, 500, "metrics failed\n");
          else res.destroy();
        });
      }
      send(res, 404, "not found\n");
    };

  const shared = healthPort === metricsPort && healthPort !== 0;
  const healthServer = await listen(createServer(handler(true, shared)), bindAddress, healthPort);
  const metricsServer = shared
    ? healthServer
    : await listen(createServer(handler(false, true)), bindAddress, metricsPort);
  const portOf = (s: Server) => (s.address() as AddressInfo).port;
  const host = bindAddress.includes(":") ? `[${bindAddress}]` : bindAddress;
  const urlHost = bindAddress === "0.0.0.0" ? "127.0.0.1" : bindAddress === "::" ? "[::1]" : host;
  options.log?.info({
    event: "http.listening",
    health: `${host}:${portOf(healthServer)}`,
    metrics: `${host}:${portOf(metricsServer)}`,
  });

  return {
    healthUrl: `http://${urlHost}:${portOf(healthServer)}`,
    metricsUrl: `http://${urlHost}:${portOf(metricsServer)}`,
    healthPort: portOf(healthServer),
    metricsPort: portOf(metricsServer),
    markShuttingDown: () => {
      shuttingDown = true;
    },
    async close() {
      await Promise.all([...new Set([healthServer, metricsServer])].map(closeServer));
    },
  };
}

/**
 * Readiness of an informer: passes once it has synced, and for an informer that is not started (a standby).
 */
export function informerReady(informer: { status(): InformerStatus }): Check {
  return () => {
    const s = informer.status();
    if (!s.started) return { ok: true, message: "not started (standby)" };
    return s.synced ? { ok: true } : { ok: false, message: "not synced yet" };
  };
}

/**
 * Liveness of an informer: fails once it has been failing (no successful list or watch event) for longer than
 * `stuckAfterMs` (default 5 minutes), so the kubelet restarts a process whose watches are dead-stuck.
 */
export function informerLive(
  informer: { status(): InformerStatus },
  options: { stuckAfterMs?: number; clock?: Clock } = {},
): Check {
  const stuckAfterMs = options.stuckAfterMs ?? 300_000;
  const clock = options.clock ?? systemClock;
  return () => {
    const { started, failingSinceMs } = informer.status();
    if (!started || failingSinceMs === undefined) return { ok: true };
    const failingMs = clock.now() - failingSinceMs;
    return failingMs > stuckAfterMs
      ? { ok: false, message: `failing for ${Math.round(failingMs / 1000)}s` }
      : { ok: true, message: `recovering (failing for ${Math.round(failingMs / 1000)}s)` };
  };
}

function normalise(checks: Check | Record<string, Check> | undefined): Record<string, Check> {
  if (!checks) return {};
  return typeof checks === "function" ? { main: checks } : checks;
}

function run(checks: Record<string, Check>): [string, CheckResult][] {
  return Object.entries(checks).map(([name, check]) => {
    try {
      const result = check();
      return [name, typeof result === "boolean" ? { ok: result } : result];
    } catch (err) {
      return [name, { ok: false, message: `check threw: ${(err as Error)?.name ?? "error"}` }];
    }
  });
}

function report(res: ServerResponse, probe: string, results: [string, CheckResult][], verbose: boolean) {
  const ok = results.every(([, r]) => r.ok);
  const lines = results
    .filter(([, r]) => verbose || !r.ok)
    .map(
      ([name, r]) =>
        `[${r.ok ? "+" : "-"}]${name} ${r.ok ? "ok" : "failed"}${r.message ? `: ${r.message}` : ""}`,
    );
  const tail = ok ? "ok" : `${probe} check failed`;
  send(res, ok ? 200 : 503, `${[...lines, tail].join("\n")}\n`);
}

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Resolves when `res` takes more writes ("drain") or is gone ("close"), and leaves no listener behind: a race of
 * two `once()` kept the loser's listeners, one pair per wait, hundreds in a scrape at 10,000 connections.
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
