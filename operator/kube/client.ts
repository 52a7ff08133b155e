// The operator's own Kubernetes client: JSON requests and watch streams over one undici dispatcher, for the few
// endpoints it uses. @kubernetes/client-node's KubeConfig loads every generated API (~90 MiB RSS); this does not.
import { Agent, type Dispatcher } from "undici";
import type { ClusterAccess } from "./kubeconfig.ts";

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** @default "application/json" when there is a body */
  contentType?: string;
  /** @default "application/json" */
  accept?: string;
  signal?: AbortSignal;
  /** The whole request, answer included. @default 60 s */
  timeoutMs?: number;
  /** Told the answer's length in characters, before it is parsed (a list sizes its next page by it). */
  onAnswerLength?: (chars: number) => void;
}

/** Content types of the patch kinds the API server accepts. */
export const PATCH = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

/** A Kubernetes object as the API server sends it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    managedFields?: unknown;
  };
}

/** A list as the API server sends it. */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/**
 * An answer of the API server that is not a success: `code` (and `statusCode`) is the HTTP status, `body` the
 * Status object when there is one (reason, message). Never carries request bodies or headers.
 */
export class KubeApiError extends Error {
  override name = "KubeApiError";
  readonly statusCode: number;
  constructor(
    readonly code: number,
    readonly body: { reason?: string; message?: string; code?: number } | undefined,
    method: string,
    path: string,
  ) {
    super(
      `${method} ${path}: ${code}${body?.reason ? ` ${body.reason}` : ""}${body?.message ? `: ${body.message}` : ""}`,
    );
    this.statusCode = code;
  }
}

/** One watch event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (then `object` is a Status). */
export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface WatchOptions {
  /** The request's headers time out after this, and so does a stream that delivers nothing for as long. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A watch stream that delivered nothing for its idle timeout (as client-node's TimeoutError). */
export class WatchIdleError extends Error {
  override name = "TimeoutError";
}

/** How a client's connection pool is made: from the TLS options, a dispatcher (a paced one, say). */
export type DispatcherBuilder = (base: Agent) => Dispatcher;

/**
 * A client of one API server as one identity.
 *
 * Guarantees: every request of this client (and of its {@link withHeaders} copies) shares one dispatcher, built
 * on first use; the Authorization header is asked of {@link ClusterAccess.authorization} per request (tokens
 * rotate); non-2xx answers reject with {@link KubeApiError}.
 * Caveats: the TLS material is read once, when the dispatcher is built.
 */
export class KubeClient {
  #dispatcher: Dispatcher | undefined;
  readonly #shared: { get(): Dispatcher };

  constructor(
    readonly access: ClusterAccess,
    build: DispatcherBuilder = (base) => base,
    readonly headers: Readonly<Record<string, string>> = {},
    shared?: { get(): Dispatcher },
    readonly watchHeaders: Readonly<Record<string, string>> = headers,
  ) {
    this.#shared = shared ?? {
      get: () => {
        this.#dispatcher ??= build(
          new Agent({
            connect: {
              ...(access.tls.ca ? { ca: access.tls.ca } : {}),
              ...(access.tls.cert ? { cert: access.tls.cert, key: access.tls.key } : {}),
              ...(access.tls.insecure ? { rejectUnauthorized: false } : {}),
              ...(access.tls.servername ? { servername: access.tls.servername } : {}),
              keepAlive: true,
              keepAliveInitialDelay: 30_000,
            },
            keepAliveTimeout: 30_000,
          }),
        );
        return this.#dispatcher;
      },
    };
  }

  /** The same identity over a new pool of connections, built by `build` (e.g. paced). */
  withDispatcher(build: DispatcherBuilder): KubeClient {
    return new KubeClient(this.access, build, this.headers);
  }

  /**
   * The same client and pool, with headers added to every request, and `forWatches` to every watch (e.g. an
   * Accept for metadata only, which names a list's kind and a watch event's differently).
   */
  withHeaders(headers: Record<string, string>, forWatches: Record<string, string> = headers): KubeClient {
    return new KubeClient(this.access, undefined, { ...this.headers, ...headers }, this.#shared, {
      ...this.watchHeaders,
      ...forWatches,
    });
  }

  /** One request; resolves with the parsed JSON answer (undefined for an empty body). */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: options.accept ?? "application/json", ...this.headers };
    const auth = await this.access.authorization();
    if (auth) headers.authorization = auth;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = options.contentType ?? "application/json";
    }
    const signal = anySignal(options.signal, AbortSignal.timeout(options.timeoutMs ?? 60_000));
    const response = await this.#shared.get().request({
      origin: this.access.server,
      path: withQuery(path, options.query),
      method: method as Dispatcher.HttpMethod,
      headers,
      body,
      signal,
    });
    const text = await response.body.text();
    options.onAnswerLength?.(text.length);
    if (response.statusCode < 200 || response.statusCode >= 300)
      throw new KubeApiError(response.statusCode, parseStatus(text), method, path);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Opens a watch (`watch=true` is added to `query`) and calls `onEvent` for each event until the server ends the
   * stream (resolves), or it fails, stays idle for `idleTimeoutMs` ({@link WatchIdleError}) or `signal` aborts
   * (rejects). A non-200 answer rejects with {@link KubeApiError}.
   */
  async watch<T = KubeObject>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    options: WatchOptions = {},
  ): Promise<void> {
    const headers: Record<string, string> = { accept: "application/json", ...this.watchHeaders };
    const auth = await this.access.authorization();
    if (auth) headers.authorization = auth;
    const idle = options.idleTimeoutMs ?? 180_000;
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#shared.get().request({
        origin: this.access.server,
        path: withQuery(path, { ...query, watch: true }),
        method: "GET",
        headers,
        signal: options.signal,
        headersTimeout: idle,
        bodyTimeout: idle,
      });
    } catch (error) {
      throw idleError(error) ?? error;
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => "");
      throw new KubeApiError(response.statusCode, parseStatus(text), "GET", path);
    }
    let partial = "";
    try {
      for await (const chunk of response.body) {
        const lines = (partial + (chunk as Buffer).toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line.trim() === "") continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch {
            continue; // as client-node: a line that is not JSON is skipped
          }
          onEvent(event);
        }
      }
    } catch (error) {
      throw idleError(error) ?? error;
    }
  }
}

function idleError(error: unknown): WatchIdleError | undefined {
  const code = (error as { code?: string })?.code;
  return code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT"
    ? new WatchIdleError("the watch delivered nothing for its idle timeout")
    : undefined;
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

function parseStatus(text: string): KubeApiError["body"] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as KubeApiError["body"]) : undefined;
  } catch {
    return undefined;
  }
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

/** Whether `error` is an API server answer with `code` (ours, or client-node's ApiException in tests and tools). */
export function isStatus(error: unknown, code: number): boolean {
  return (error as { code?: unknown } | null)?.code === code && error instanceof Error;
}
