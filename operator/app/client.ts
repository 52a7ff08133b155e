// The app client for one Organization: the only code that speaks to Label Studio. Every endpoint of the
// model-provider-connection API, both token kinds, and answers validated with zod.
import type { ConnectionGuard } from "../providers/egress.ts";
import { secretMaterial } from "../scrub.ts";
import { AppError } from "./errors.ts";
import {
  AppAccessToken,
  AppConnection,
  type AppConnectionFields,
  AppConnectionList,
  AppProviderChoices,
  AppWhoami,
  SECRET_FIELDS,
} from "./schemas.ts";
import { AccessTokenSource, expiresAtMs, type TokenKind, tokenKind } from "./token.ts";
import { type AppRequestSample, type Exchange, Transport } from "./transport.ts";

/** What the client logs through (token renewals): a pino logger fits. */
export interface AppClientLogger {
  debug(entry: object, message?: string): void;
}

export interface AppClientOptions {
  /** The app's base URL (Organization spec.url); a path prefix is kept. */
  url: string;
  /** A legacy API token or a personal access token (a refresh JWT); detected by its shape. */
  token: string;
  /** PEM CA bundle trusted in addition to the default roots. */
  caPem?: string;
  /** Skip certificate verification (tests only). */
  insecureSkipVerify?: boolean;
  /** Timeout of one read (and of the token exchange); default 10 s. */
  timeoutMs?: number;
  /**
   * Timeout of one write (create, update, delete); default 30 s. Some app versions check a key with its
   * provider on every write before answering, so a write can take much longer than a read.
   */
  writeTimeoutMs?: number;
  /** Renew an access token this long before it expires (at most half its lifetime); default 30 s. */
  renewBeforeMs?: number;
  /** Clock in ms; default Date.now. */
  now?: () => number;
  /** Called once per HTTP request. */
  metrics?: (sample: AppRequestSample) => void;
  logger?: AppClientLogger;
  /** The egress guard's hooks: the app's address may not be a cloud metadata or link-local one. */
  egress?: ConnectionGuard;
}

/** What deleteConnection found: the record was removed now, or was already gone (404). */
export type DeleteOutcome = "deleted" | "alreadyGone";

/**
 * The app's API for one organization (the token owner's active one). Every method resolves with a validated
 * answer or rejects with an AppError (see errors.ts for its kinds).
 */
export interface AppClient {
  readonly tokenKind: TokenKind;
  /** GET /api/current-user/whoami: who the token is, and its active organization. */
  whoami(): Promise<AppWhoami>;
  /** GET /api/model-provider-connections/ (optionally `?ordering=`), a plain array. */
  listConnections(options?: { ordering?: string }): Promise<AppConnection[]>;
  /** GET /api/model-provider-connections/{id}/; NotFound when absent. */
  getConnection(id: number): Promise<AppConnection>;
  /**
   * POST /api/model-provider-connections/ → 201. After a failure the app may have acted on (5xx, timeout,
   * dropped connection) the caller must look for the record before creating again; a timeout says in
   * `retryAfterMs` how long to wait before looking (the app may still be making the record).
   */
  createConnection(fields: AppConnectionFields): Promise<AppConnection>;
  /** PATCH /api/model-provider-connections/{id}/: only the given fields change. */
  updateConnection(id: number, fields: AppConnectionFields): Promise<AppConnection>;
  /** DELETE /api/model-provider-connections/{id}/ → 204; a 404 means already gone and resolves "alreadyGone". */
  deleteConnection(id: number): Promise<DeleteOutcome>;
  /** GET /api/model-provider-connections/provider-choices (no trailing slash): the provider names. */
  providerChoices(): Promise<string[]>;
  /** Closes pooled connections; the client is unusable afterwards. */
  close(): Promise<void>;
}

const ROUTES = {
  whoami: "/api/current-user/whoami",
  tokenRefresh: "/api/token/refresh/",
  connections: "/api/model-provider-connections/",
  connection: "/api/model-provider-connections/{id}/",
  providerChoices: "/api/model-provider-connections/provider-choices",
} as const;

/** Resolves a route against the base URL, keeping any path prefix of the base. */
function pathOf(route: string, id?: number): string {
  const path = id === undefined ? route : route.replace("{id}", String(id));
  return path.replace(/^\//, "");
}

function secretsOf(fields: AppConnectionFields): string[] {
  return SECRET_FIELDS.map((name) => fields[name])
    .filter((value): value is string => typeof value === "string")
    .flatMap(secretMaterial);
}

function connectionId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1)
    throw new RangeError(`connection id must be a positive integer: ${id}`);
  return id;
}

/**
 * Creates the app client for one Organization.
 *
 * Guarantees: a personal access token is exchanged at POST /api/token/refresh/ for an access token that is
 * cached, renewed shortly before its `exp` (one exchange at a time), and renewed once more when the app answers
 * 401 to it; no other request is repeated (the work queue retries reconciles, see transport.ts); no token or
 * secret field value appears in an error message or log entry.
 * Assumptions: the app follows shared/reference/labelstudio-api.md.
 */
export function createAppClient(options: AppClientOptions): AppClient {
  const now = options.now ?? Date.now;
  const transport = new Transport({
    baseUrl: options.url.endsWith("/") ? options.url : `${options.url}/`,
    caPem: options.caPem,
    insecureSkipVerify: options.insecureSkipVerify,
    timeoutMs: options.timeoutMs ?? 10_000,
    now,
    metrics: options.metrics,
    egress: options.egress,
  });
  const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
  const token = options.token;
  const kind = tokenKind(token);

  const exchangeToken = async (): Promise<string> => {
    try {
      const answer = await transport.send({
        method: "POST",
        path: pathOf(ROUTES.tokenRefresh),
        route: ROUTES.tokenRefresh,
        body: { refresh: token },
        answer: AppAccessToken,
        secrets: [token],
      });
      options.logger?.debug({ event: "app.token.renewed", expiresAt: expiresAtMs(answer.access) });
      return answer.access;
    } catch (error) {
      const expiredAt = expiresAtMs(token);
      if (
        error instanceof AppError &&
        error.kind === "Unauthorized" &&
        expiredAt !== undefined &&
        expiredAt <= now()
      ) {
        throw new AppError({
          kind: "Unauthorized",
          method: error.method,
          route: error.route,
          status: error.status,
          detail: `the personal access token expired at ${new Date(expiredAt).toISOString()}`,
        });
      }
      throw error;
    }
  };
  const access =
    kind === "personalAccessToken"
      ? new AccessTokenSource({ exchange: exchangeToken, now, renewBeforeMs: options.renewBeforeMs })
      : undefined;

  const call = async <T>(exchange: Omit<Exchange<T>, "authorization">): Promise<T> => {
    const secrets = [...exchange.secrets, token];
    if (!access) return transport.send({ ...exchange, secrets, authorization: async () => `Token ${token}` });
    let used: string | undefined;
    const authorization = async () => {
      used = await access.get();
      return `Bearer ${used}`;
    };
    try {
      return await transport.send({ ...exchange, secrets, authorization });
    } catch (error) {
      // An access token the app no longer accepts (revoked, clock skew): renew once and try again.
      if (!(error instanceof AppError) || error.kind !== "Unauthorized" || used === undefined) throw error;
      access.invalidate(used);
      used = undefined;
      return transport.send({ ...exchange, secrets, authorization });
    }
  };

  return {
    tokenKind: kind,
    whoami: () =>
      call({
        method: "GET",
        path: pathOf(ROUTES.whoami),
        route: ROUTES.whoami,
        answer: AppWhoami,
        secrets: [],
      }),
    listConnections: (list = {}) =>
      call({
        method: "GET",
        path:
          pathOf(ROUTES.connections) +
          (list.ordering ? `?${new URLSearchParams({ ordering: list.ordering })}` : ""),
        route: ROUTES.connections,
        answer: AppConnectionList,
        secrets: [],
      }),
    getConnection: async (id) =>
      call({
        method: "GET",
        path: pathOf(ROUTES.connection, connectionId(id)),
        route: ROUTES.connection,
        answer: AppConnection,
        secrets: [],
      }),
    createConnection: (fields) =>
      call({
        method: "POST",
        path: pathOf(ROUTES.connections),
        timeoutMs: writeTimeoutMs,
        route: ROUTES.connections,
        body: fields,
        answer: AppConnection,
        secrets: secretsOf(fields),
      }),
    updateConnection: async (id, fields) =>
      call({
        method: "PATCH",
        path: pathOf(ROUTES.connection, connectionId(id)),
        timeoutMs: writeTimeoutMs,
        route: ROUTES.connection,
        body: fields,
        answer: AppConnection,
        secrets: secretsOf(fields),
      }),
    deleteConnection: async (id) => {
      try {
        await call({
          method: "DELETE",
          path: pathOf(ROUTES.connection, connectionId(id)),
          timeoutMs: writeTimeoutMs,
          route: ROUTES.connection,
          secrets: [],
        });
        return "deleted";
      } catch (error) {
        // Gone is what we wanted; a DELETE repeated by the next reconcile after a lost answer lands here too.
        if (error instanceof AppError && error.kind === "NotFound") return "alreadyGone";
        throw error;
      }
    },
    providerChoices: () =>
      call({
        method: "GET",
        path: pathOf(ROUTES.providerChoices),
        route: ROUTES.providerChoices,
        answer: AppProviderChoices,
        secrets: [],
      }),
    close: () => transport.close(),
  };
}
