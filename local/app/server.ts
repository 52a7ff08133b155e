// The Label Studio contract server: a local stand-in for Label Studio Enterprise's model-provider-connection
// API (used by tests and by `npm start`'s sandbox). HTTP plumbing, request recording and fault injection.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type AppRequest, type AppResponse, route } from "./routes.ts";
import { AppState, type Fault, type RecordedRequest } from "./state.ts";

/** What the server tells its operator: a pino logger fits. */
export interface AppServerLogger {
  info(entry: object, message?: string): void;
  warn(entry: object, message?: string): void;
}

export interface AppServerOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Only loopback: default and only sensible value 127.0.0.1. */
  host?: "127.0.0.1";
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** The server's clock (ms); tests pass a controllable one. Default Date.now. */
  now?: () => number;
  /** Lifetime of access JWTs; default 300 s. */
  accessTokenTtlSeconds?: number;
  /** Lifetime of personal access tokens addUser hands out; default 30 days. */
  refreshTokenTtlSeconds?: number;
  /** Default: silent. */
  logger?: AppServerLogger;
}

export interface AppServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  state: AppState;
  /** Closes the listener and every open connection; pending injected latencies are cancelled. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
export const STAND_IN_NOTICE = "local stand-in for Label Studio Enterprise's API — not the real app";

const silent: AppServerLogger = { info() {}, warn() {} };

function recordedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    headers[name] =
      name === "authorization"
        ? `${text.trim().split(/\s+/)[0] ?? ""} [redacted]`
        : name === "cookie"
          ? "[redacted]"
          : text;
  }
  return headers;
}

async function readBody(request: IncomingMessage): Promise<AppRequest["body"]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { kind: "invalid", status: 400, detail: "Request body too large." };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return { kind: "none" };
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/json") {
    return { kind: "invalid", status: 415, detail: `Unsupported media type "${type}" in request.` };
  }
  try {
    return { kind: "json", value: JSON.parse(text) };
  } catch (error) {
    return { kind: "invalid", status: 400, detail: `JSON parse error - ${(error as Error).message}` };
  }
}

function redactedBody(path: string, body: AppRequest["body"]): unknown {
  if (body.kind !== "json") return undefined;
  const value = body.value;
  if (path === "/api/token/refresh/" && typeof value === "object" && value !== null && "refresh" in value) {
    return { ...value, refresh: "[redacted]" };
  }
  return value;
}

function send(response: ServerResponse, answer: AppResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const text = JSON.stringify(answer.body);
  headers["content-type"] = "application/json";
  headers["content-length"] = String(Buffer.byteLength(text));
  response.writeHead(answer.status, headers).end(text);
}

function faultAnswer(fault: Fault): AppResponse | undefined {
  if (fault.kind === "status") {
    // A proxy or Django's own error page: not JSON, as clients meet it in the wild.
    return { status: fault.status, body: undefined, headers: { "content-type": "text/html" } };
  }
  if (fault.kind === "rateLimit") {
    return {
      status: 429,
      body: { detail: `Request was throttled. Expected available in ${fault.retryAfterSeconds} seconds.` },
      headers: { "retry-after": String(fault.retryAfterSeconds) },
    };
  }
  return undefined;
}

/**
 * Starts the contract server on 127.0.0.1.
 *
 * Guarantees: every endpoint of shared/reference/labelstudio-api.md with its exact path; requests are recorded
 * in `state.requests` before they are answered; a fault is used up by the first matching request.
 * Caveats: a local stand-in, not Label Studio; see local/app/README.md for the decisions where the reference
 * is silent.
 */
export async function startAppServer(options: AppServerOptions = {}): Promise<AppServer> {
  const logger = options.logger ?? silent;
  const state = new AppState({
    now: options.now ?? Date.now,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 300,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 24 * 3600,
  });
  const pendingDelays = new Set<() => void>();
  let stopping = false;

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pendingDelays.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      pendingDelays.add(done);
    });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const method = (request.method ?? "GET").toUpperCase();
    const body = await readBody(request);
    const record: RecordedRequest = {
      at: state.now(),
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: recordedHeaders(request),
      body: redactedBody(url.pathname, body),
    };
    state.requests.push(record);

    const fault = state.takeFault(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      logger.warn({ event: "appsandbox.fault", fault: fault.kind, method, path: url.pathname });
    }
    if (fault?.kind === "latency") await delay(fault.ms);
    if (stopping) return;
    if (fault?.kind === "drop" && !fault.afterHandling) {
      request.socket.destroy();
      return;
    }
    const answer =
      (fault && faultAnswer(fault)) ??
      route(state, {
        method,
        path: url.pathname,
        query: url.searchParams,
        authorization: request.headers.authorization,
        body,
      });
    record.userId = answer.userId;
    if (fault?.kind === "drop") {
      request.socket.destroy();
      return;
    }
    record.status = answer.status;
    logger.info({ event: "appsandbox.request", method, path: url.pathname, status: answer.status });
    if (answer.status >= 500 && answer.body === undefined) {
      response.writeHead(answer.status, answer.headers).end(`<h1>Server Error (${answer.status})</h1>`);
      return;
    }
    send(response, answer);
  };

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      logger.warn({ event: "appsandbox.error", error: (error as Error).message });
      if (!response.headersSent)
        send(response, { status: 500, body: { detail: "A server error occurred." } });
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? "https" : "http"}://${host}:${port}`;
  logger.info({ event: "appsandbox.started", url }, STAND_IN_NOTICE);

  return {
    url,
    state,
    stop: async () => {
      stopping = true;
      for (const done of [...pendingDelays]) done();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      logger.info({ event: "appsandbox.stopped", url }, STAND_IN_NOTICE);
    },
  };
}
