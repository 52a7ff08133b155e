// A loopback HTTP proxy in front of the real API server that records requests and injects the faults a real
// server will not produce on demand: errors on chosen requests, swallowed watch events, and 410 Gone on watches.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { type HttpMethod, KubeConfig, RequestContext } from "@kubernetes/client-node";
import { fetch } from "undici";
import { KubeClient } from "../../operator/kube/client.ts";

export interface FaultProxy {
  /** A kubeconfig whose requests go through the proxy (authenticating upstream as `upstream`'s user). */
  kubeConfig: KubeConfig;
  /** The operator's own client, through the proxy: what operator modules take. */
  kube: KubeClient;
  /** Every request seen, as `METHOD path?query`. */
  requests: string[];
  /** Answers the next `times` requests whose URL matches with `status` (and a Status body), plus `headers`. */
  fail(match: (url: URL) => boolean, status: number, times?: number, headers?: Record<string, string>): void;
  /** While true, watch streams stay open but deliver nothing (events are missed, as in a network partition). */
  swallowWatchEvents(on: boolean): void;
  /** Ends every open watch with an ERROR event carrying 410 Gone, as when its resourceVersion was compacted. */
  expireWatches(): number;
  /** Watches open now (the API server has registered them). */
  openWatches(): number;
  /** Holds every request whose URL matches for `ms` before forwarding it (a slow API server). */
  delay(match: (url: URL) => boolean, ms: number): void;
  /** The most requests (watches apart) in the proxy at once since the last call; starts counting afresh. */
  takePeakInFlight(): number;
  close(): Promise<void>;
}

const gone = JSON.stringify({
  type: "ERROR",
  object: {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "too old resource version",
    reason: "Expired",
    code: 410,
  },
});

/** Starts the proxy on 127.0.0.1 in front of `upstream`'s current cluster. */
export async function startFaultProxy(upstream: KubeConfig): Promise<FaultProxy> {
  const cluster = upstream.getCurrentCluster();
  if (!cluster) throw new Error("upstream kubeconfig has no current cluster");
  const requests: string[] = [];
  const faults: {
    match: (url: URL) => boolean;
    status: number;
    left: number;
    headers?: Record<string, string>;
  }[] = [];
  const openWatches = new Set<{ res: ServerResponse; abort: AbortController }>();
  let swallow = false;
  const delays: { match: (url: URL) => boolean; ms: number }[] = [];
  let inFlight = 0;
  let peakInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.searchParams.get("watch") !== "true") {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      res.on("close", () => inFlight--);
    }
    const held = delays.find((d) => d.match(url));
    if (held) await new Promise((resolve) => setTimeout(resolve, held.ms));
    const fault = faults.find((f) => f.left > 0 && f.match(url));
    if (fault) {
      fault.left--;
      res.writeHead(fault.status, { ...fault.headers, "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: fault.status }));
      return;
    }
    const target = new URL(cluster.server + url.pathname + url.search);
    const ctx = new RequestContext(target.toString(), (req.method ?? "GET") as HttpMethod);
    await upstream.applySecurityAuthentication(ctx);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req);
    const abort = new AbortController();
    const headers: Record<string, string> = { ...ctx.getHeaders() };
    if (req.headers["content-type"]) headers["content-type"] = String(req.headers["content-type"]);
    const upstreamRes = await fetch(target, {
      method: req.method ?? "GET",
      headers,
      body,
      dispatcher: ctx.getDispatcher(),
      signal: abort.signal,
    });
    res.writeHead(upstreamRes.status, {
      "content-type": upstreamRes.headers.get("content-type") ?? "application/json",
    });
    if (!upstreamRes.body) return void res.end();
    const stream = Readable.fromWeb(upstreamRes.body as import("node:stream/web").ReadableStream);
    stream.on("error", () => res.destroy());
    if (url.searchParams.get("watch") !== "true") {
      stream.pipe(res);
      return;
    }
    res.flushHeaders();
    const watch = { res, abort };
    openWatches.add(watch);
    const lines = createInterface(stream);
    lines.on("line", (line) => {
      if (!swallow && !res.writableEnded) res.write(`${line}\n`);
    });
    const end = () => {
      openWatches.delete(watch);
      if (!res.writableEnded) res.end();
    };
    lines.on("close", end);
    lines.on("error", end);
    stream.on("error", end);
    res.on("close", () => {
      openWatches.delete(watch);
      abort.abort();
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "proxy", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "proxy" }],
    contexts: [{ name: "proxy", cluster: "proxy", user: "proxy" }],
    currentContext: "proxy",
  });

  const kube = new KubeClient({
    server: `http://127.0.0.1:${port}`,
    tls: {},
    authorization: async () => undefined,
    source: "fault proxy",
  });

  return {
    kubeConfig,
    kube,
    requests,
    fail: (match, status, times = 1, headers) => {
      faults.push({ match, status, left: times, headers });
    },
    swallowWatchEvents: (on) => {
      swallow = on;
    },
    expireWatches() {
      const all = [...openWatches];
      for (const { res, abort } of all) {
        res.end(`${gone}\n`);
        abort.abort();
      }
      openWatches.clear();
      return all.length;
    },
    openWatches: () => openWatches.size,
    delay: (match, ms) => {
      delays.push({ match, ms });
    },
    takePeakInFlight() {
      const peak = peakInFlight;
      peakInFlight = inFlight;
      return peak;
    },
    async close() {
      for (const { res, abort } of openWatches) {
        abort.abort();
        res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
