// The contract server's endpoints: exact paths (trailing slashes as documented), DRF's order of checks
// (authentication, permission, method) and DRF's answers.
import { authenticate, refreshAccessToken } from "./auth.ts";
import {
  type ConnectionRecord,
  orderConnections,
  PROVIDER_CHOICES,
  serializeConnection,
} from "./connections.ts";
import { type AppState, FieldValidationError, MANAGING_ROLES, type User } from "./state.ts";
import { ROLE_CODES } from "./users.ts";

/** A parsed request: the body is JSON, or a parse failure the route answers 400 (or 415) to. */
export interface AppRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  body:
    | { kind: "none" }
    | { kind: "json"; value: unknown }
    | { kind: "invalid"; detail: string; status: 400 | 415 };
}

export interface AppResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The authenticated user, for the request record. */
  userId?: number;
}

const CONNECTIONS = "/api/model-provider-connections/";
const CONNECTION = /^\/api\/model-provider-connections\/(\d+)\/$/;
const PROVIDER_CHOICES_PATH = "/api/model-provider-connections/provider-choices";
const WHOAMI = "/api/current-user/whoami";
const TOKEN_REFRESH = "/api/token/refresh/";

const NOT_FOUND: AppResponse = { status: 404, body: { detail: "Not found." } };
const FORBIDDEN: AppResponse = {
  status: 403,
  body: { detail: "You do not have permission to perform this action." },
};

function methodNotAllowed(method: string, allowed: string[]): AppResponse {
  return {
    status: 405,
    body: { detail: `Method "${method}" not allowed.` },
    headers: { allow: allowed.join(", ") },
  };
}

type Handler = (request: AppRequest, user: User, id: number) => AppResponse;
interface Route {
  /** Connection endpoints need an owner or administrator; whoami any user. */
  managing: boolean;
  methods: Record<string, Handler>;
}

/** Answers one request against the state. */
export function route(state: AppState, request: AppRequest): AppResponse {
  if (request.path === TOKEN_REFRESH) {
    if (request.method !== "POST") return methodNotAllowed(request.method, ["POST"]);
    const body = bodyOf(request);
    if ("status" in body) return body;
    return refreshAccessToken(state, body.value);
  }
  const idMatch = CONNECTION.exec(request.path);
  const found: Route | undefined =
    request.path === WHOAMI
      ? { managing: false, methods: { GET: (_request, user) => whoami(state, user) } }
      : request.path === PROVIDER_CHOICES_PATH
        ? {
            managing: true,
            methods: { GET: () => ({ status: 200, body: { provider_choices: [...PROVIDER_CHOICES] } }) },
          }
        : request.path === CONNECTIONS
          ? { managing: true, methods: collectionHandlers(state) }
          : idMatch
            ? { managing: true, methods: itemHandlers(state) }
            : undefined;
  if (!found) return NOT_FOUND;

  const auth = authenticate(state, request.authorization);
  if (!auth.ok) return { status: 401, body: auth.body, headers: { "www-authenticate": "Token" } };
  const user = auth.user;
  const answer = (response: AppResponse): AppResponse => ({ ...response, userId: user.id });
  const reads = request.method === "GET" && state.behaviour.managersMayRead && user.role === "manager";
  if (found.managing && !MANAGING_ROLES.includes(user.role) && !reads) return answer(FORBIDDEN);
  const handler = found.methods[request.method];
  if (!handler) return answer(methodNotAllowed(request.method, Object.keys(found.methods)));
  return answer(handler(request, user, Number(idMatch?.[1] ?? 0)));
}

function whoami(state: AppState, user: User): AppResponse {
  const membership = state.behaviour.whoamiShowsRole
    ? {
        organization_membership: {
          role: ROLE_CODES[user.role],
          organization_id: user.active_organization,
          active: true,
        },
      }
    : {};
  return {
    status: 200,
    body: {
      id: user.id,
      email: user.email,
      username: user.username,
      first_name: user.first_name,
      last_name: user.last_name,
      active_organization: user.active_organization,
      ...membership,
    },
  };
}

/** Answers a create or update of the API, with what the app itself does around such a write. */
function written(state: AppState, record: ConnectionRecord, status: 200 | 201): AppResponse {
  state.duringApiWrite(record);
  const body = serializeConnection(record);
  state.afterApiWrite(record);
  return { status, body };
}

function bodyOf(request: AppRequest): { value: unknown } | AppResponse {
  switch (request.body.kind) {
    case "none":
      return { value: {} };
    case "json":
      return { value: request.body.value };
    case "invalid":
      return { status: request.body.status, body: { detail: request.body.detail } };
  }
}

/** Runs a state change, turning a validation failure into DRF's 400. */
function validated(run: () => AppResponse): AppResponse {
  try {
    return run();
  } catch (error) {
    if (error instanceof FieldValidationError) return { status: 400, body: error.errors };
    throw error;
  }
}

function collectionHandlers(state: AppState): Record<string, Handler> {
  return {
    GET: (request, user) => ({
      status: 200,
      body: orderConnections(
        state.records(user.active_organization).map(serializeConnection),
        request.query.get("ordering") ?? undefined,
      ),
    }),
    POST: (request, user) => {
      const body = bodyOf(request);
      if ("status" in body) return body;
      return validated(() =>
        written(state, state.createRecord(user.active_organization, body.value, user.id), 201),
      );
    },
  };
}

function itemHandlers(state: AppState): Record<string, Handler> {
  const withRecord =
    (
      run: (request: AppRequest, record: NonNullable<ReturnType<AppState["recordIn"]>>) => AppResponse,
    ): Handler =>
    (request, user, id) => {
      const record = state.recordIn(user.active_organization, id);
      return record ? run(request, record) : NOT_FOUND;
    };
  // PUT validates like PATCH: every field is optional in the app's serializer, and DRF leaves a field a full
  // update omits untouched. Send null to clear a field.
  const update = withRecord((request, record) => {
    const body = bodyOf(request);
    if ("status" in body) return body;
    return validated(() => written(state, state.updateRecord(record, body.value), 200));
  });
  return {
    GET: withRecord((_request, record) => ({ status: 200, body: serializeConnection(record) })),
    PATCH: update,
    PUT: update,
    DELETE: withRecord((_request, record) => {
      state.deleteConnection(record.id);
      return { status: 204 };
    }),
  };
}
