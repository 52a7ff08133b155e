// The HTTP machinery every provider stand-in shares: a loopback server that records requests and can
// answer late, fail, or drop the connection before the provider-specific routes run.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the stand-in saw it (headers lower-cased; body parsed as JSON or form when it is). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  /** When it arrived (ms since the epoch), for tests that measure how requests are spaced. */
  at: number;
}

/** An injected failure: answer `status` (or drop the connection) instead of the route's answer. */
export interface Fault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sets `retry-after` (seconds). */
  retryAfterSeconds?: number;
  /** Destroy the socket without an answer. */
  drop?: boolean;
  /**
   * Only requests whose path contains this (or matches it), or for which it returns true (to fail the
   * requests of one key, say). @default every request
   */
  match?: string | RegExp | ((request: RecordedRequest) => boolean);
  /** Let this many matching requests through first (to fail page two, say). @default 0 */
  skip?: number;
  /** How many requests it hits, then it clears itself. @default every request until changed */
  times?: number;
}

/** Behaviour every stand-in understands. */
export interface CommonBehaviour {
  /** Wait this long before answering (the client's timeout shows). @default 0 */
  delayMs?: number;
  fault?: Fault | undefined;
  /** Further faults, each for its own requests (see Fault.match); `fault` first, then these in order. */
  faults?: Fault[] | undefined;
}

/** What a route answers. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route<B> = (
  request: RecordedRequest,
  behaviour: B,
  self: { url: string },
) => Answer | Promise<Answer>;

/** A running stand-in. */
export interface StandIn<B extends CommonBehaviour> {
  /** http://127.0.0.1:<port> (no trailing slash). */
  url: string;
  /** Every request so far, oldest first. */
  readonly requests: RecordedRequest[];
  /** The number of requests, optionally only those whose path contains `pathPart`. */
  count(pathPart?: string): number;
  readonly behaviour: B;
  /** Merges `patch` into the behaviour (a shallow merge). */
  set(patch: Partial<B>): void;
  clearRequests(): void;
  stop(): Promise<void>;
}

/** Starts a stand-in on `host` (always a loopback address in tests and the sandbox) and a free port. */
export async function startStandIn<B extends CommonBehaviour>(
  options: { host?: string; port?: number },
  initial: B,
  route: Route<B>,
): Promise<StandIn<B>> {
  let behaviour: B = { ...initial };
  const requests: RecordedRequest[] = [];
  const self = { url: "" };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: { message: String(error) } } });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", self.url);
    const raw = await readBody(req);
    const recorded: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      ),
      body: parseBody(raw, req.headers["content-type"]),
    };
    requests.push(recorded);
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    const slot = matchingFault(behaviour, recorded);
    const fault = slot?.fault;
    if (slot && fault?.skip) {
      behaviour = slot.replace({ ...fault, skip: fault.skip - 1 });
    } else if (slot && fault) {
      if (fault.times !== undefined) {
        const left = fault.times - 1;
        behaviour = slot.replace(left > 0 ? { ...fault, times: left } : undefined);
      }
      if (fault.drop) {
        req.socket.destroy();
        return;
      }
      const headers = { ...fault.headers };
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      send(res, {
        status: fault.status ?? 500,
        body: fault.body ?? { error: { message: "injected fault" } },
        headers,
      });
      return;
    }
    send(res, await route(recorded, behaviour, self));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  self.url = `http://${host}:${address.port}`;

  return {
    url: self.url,
    requests,
    count: (pathPart) =>
      pathPart ? requests.filter((r) => r.path.includes(pathPart)).length : requests.length,
    get behaviour() {
      return behaviour;
    },
    set: (patch) => {
      behaviour = { ...behaviour, ...patch };
    },
    clearRequests: () => {
      requests.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function matches(fault: Fault, request: RecordedRequest): boolean {
  const { match } = fault;
  if (match === undefined) return true;
  if (typeof match === "string") return request.path.includes(match);
  if (match instanceof RegExp) return match.test(request.path);
  return match(request);
}

/** The first fault that matches `request`, and how to replace it (for skip and times) in a new behaviour. */
function matchingFault<B extends CommonBehaviour>(
  behaviour: B,
  request: RecordedRequest,
): { fault: Fault; replace(next: Fault | undefined): B } | undefined {
  if (behaviour.fault && matches(behaviour.fault, request)) {
    return { fault: behaviour.fault, replace: (next) => ({ ...behaviour, fault: next }) };
  }
  const index = behaviour.faults?.findIndex((f) => matches(f, request)) ?? -1;
  const fault = index >= 0 ? behaviour.faults?.[index] : undefined;
  if (!fault) return undefined;
  return {
    fault,
    replace: (next) => {
      const faults = [...(behaviour.faults ?? [])];
      if (next) faults[index] = next;
      else faults.splice(index, 1);
      return { ...behaviour, faults };
    },
  };
}

function send(res: ServerResponse, answer: Answer): void {
  const body =
    answer.body === undefined
      ? ""
      : typeof answer.body === "string"
        ? answer.body
        : JSON.stringify(answer.body);
  const type = typeof answer.body === "string" ? "text/plain; charset=utf-8" : "application/json";
  res.writeHead(answer.status, { "content-type": type, ...answer.headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === "") return undefined;
  if (contentType?.includes("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** The bearer token of an Authorization header, if any. */
export function bearer(request: RecordedRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
}

/** How OpenAI shows a key in its 401 message: a prefix, stars and the last four characters. */
export function maskedKey(key: string): string {
  return key.length <= 8 ? "****" : `${key.slice(0, 3)}${"*".repeat(12)}${key.slice(-4)}`;
}
