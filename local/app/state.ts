// The contract server's memory: users and their tokens, connections per organization, recorded requests and
// injected faults. Tests seed and inspect it directly; the HTTP layer reads and writes it.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  type ConnectionFields,
  type ConnectionRecord,
  FIELD_DEFAULTS,
  type FieldErrors,
  SECRET_FIELDS,
  type SecretField,
  serializeConnection,
  validateFields,
} from "./connections.ts";
import { signToken } from "./jwt.ts";

/** Organization roles of Label Studio Enterprise; only owners and administrators may manage connections. */
export type Role = "owner" | "administrator" | "manager" | "reviewer" | "annotator";
export const MANAGING_ROLES: readonly Role[] = ["owner", "administrator"];

export interface User {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  role: Role;
  active_organization: number;
}

/** What addUser hands back: the user's id and both kinds of token (they are secrets: don't log them). */
export interface SeededUser {
  id: number;
  legacyToken: string;
  refreshToken: string;
}

export interface AddUserOptions {
  role: Role;
  /** The user's active organization; default 1. */
  organization?: number;
  email?: string;
  /** Register this legacy token instead of a random one. */
  legacyToken?: string;
  /** Lifetime of the personal access token handed back; default the server's refreshTokenTtlSeconds. */
  refreshTokenTtlSeconds?: number;
}

/** One request as the server saw it; authorization values are replaced by their scheme. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body (connection secrets included: tests assert on them); a refresh token is redacted. */
  body: unknown;
  userId?: number;
  /** The fault injected into this request, if any. */
  fault?: Fault["kind"];
  /** The status answered; absent while in flight or when the connection was dropped. */
  status?: number;
}

/** Which requests a fault hits: all, or those with this method and/or a path starting with this prefix. */
export interface FaultMatch {
  method?: string;
  path?: string;
}

/** A fault to inject into the next `times` (default 1) matching requests. */
export type Fault = { match?: FaultMatch; times?: number } & (
  | { kind: "latency"; ms: number }
  | { kind: "status"; status: 500 | 502 | 503 | 504 }
  | { kind: "rateLimit"; retryAfterSeconds: number }
  /** Destroys the socket without an answer; with afterHandling the request takes effect first. */
  | { kind: "drop"; afterHandling?: boolean }
);

/** A stored connection with its secrets and their SHA-256 digests, for assertions. */
export type StoredConnection = Record<string, unknown> & {
  id: number;
  organization: number;
  secrets: Record<SecretField, string | null>;
  secretSha256: Record<SecretField, string | null>;
};

export interface AppStateOptions {
  now: () => number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/** The thrown answer of a direct state change that fails validation. */
export class FieldValidationError extends Error {
  constructor(readonly errors: FieldErrors) {
    super(`invalid connection fields: ${Object.keys(errors).join(", ")}`);
  }
}

function sha256(value: string | null): string | null {
  return value === null ? null : createHash("sha256").update(value).digest("hex");
}

/** The contract server's state. All methods are synchronous and safe to call from tests at any time. */
export class AppState {
  /** Signs and checks the server's JWTs; random per server. */
  readonly jwtSecret = randomBytes(32);
  readonly requests: RecordedRequest[] = [];
  private readonly users = new Map<number, User>();
  private readonly legacyTokens = new Map<string, number>();
  private readonly revokedJti = new Set<string>();
  private readonly connections = new Map<number, ConnectionRecord>();
  private faults: Array<Fault & { remaining: number }> = [];
  private nextUserId = 1;
  private nextConnectionId = 1;

  constructor(readonly options: AppStateOptions) {}

  /** The server's clock in milliseconds. */
  now(): number {
    return this.options.now();
  }

  /** Adds a user with a role in an organization; returns a legacy token and a personal access token. */
  addUser(options: AddUserOptions): SeededUser {
    const id = this.nextUserId++;
    const email = options.email ?? `user${id}@example.test`;
    this.users.set(id, {
      id,
      email,
      username: email,
      first_name: "",
      last_name: "",
      role: options.role,
      active_organization: options.organization ?? 1,
    });
    const legacyToken = options.legacyToken ?? randomBytes(20).toString("hex");
    this.legacyTokens.set(legacyToken, id);
    const refreshToken = this.issueRefreshToken(id, options.refreshTokenTtlSeconds);
    return { id, legacyToken, refreshToken };
  }

  /** Issues another personal access token (a refresh JWT) for a user; a negative ttl makes an expired one. */
  issueRefreshToken(userId: number, ttlSeconds = this.options.refreshTokenTtlSeconds): string {
    return this.signFor(userId, "refresh", ttlSeconds);
  }

  /** Issues an access JWT for a user (what POST /api/token/refresh/ answers). */
  issueAccessToken(userId: number): string {
    return this.signFor(userId, "access", this.options.accessTokenTtlSeconds);
  }

  private signFor(userId: number, tokenType: "refresh" | "access", ttlSeconds: number): string {
    const iat = Math.floor(this.now() / 1000);
    return signToken(this.jwtSecret, {
      token_type: tokenType,
      exp: iat + ttlSeconds,
      iat,
      jti: randomUUID().replaceAll("-", ""),
      user_id: userId,
    });
  }

  user(id: number): User | undefined {
    return this.users.get(id);
  }

  userByLegacyToken(token: string): User | undefined {
    const id = this.legacyTokens.get(token);
    return id === undefined ? undefined : this.users.get(id);
  }

  isRevoked(jti: string): boolean {
    return this.revokedJti.has(jti);
  }

  /** Revokes a legacy token, or a personal access token by its jti (access tokens already out stay valid). */
  revokeToken(token: string): void {
    if (this.legacyTokens.delete(token)) return;
    const payload = token.split(".")[1];
    if (!payload) return;
    try {
      const { jti } = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: string };
      if (jti) this.revokedJti.add(jti);
    } catch {
      // not a token of ours: nothing to revoke
    }
  }

  setRole(userId: number, role: Role): void {
    this.requireUser(userId).role = role;
  }

  setActiveOrganization(userId: number, organization: number): void {
    this.requireUser(userId).active_organization = organization;
  }

  /** Removes a user: every token of theirs answers 401 from now on. */
  removeUser(userId: number): void {
    this.users.delete(userId);
  }

  private requireUser(userId: number): User {
    const user = this.users.get(userId);
    if (!user) throw new Error(`no user ${userId}`);
    return user;
  }

  /** Creates a connection as the app would (validated; defaults filled); throws FieldValidationError. */
  createConnection(organization: number, body: unknown, createdBy?: number): StoredConnection {
    const record = this.createRecord(organization, body, createdBy);
    return this.stored(record);
  }

  /** Internal: create and return the record (the HTTP layer serializes it). */
  createRecord(organization: number, body: unknown, createdBy?: number): ConnectionRecord {
    const validation = validateFields(body);
    if (!validation.ok) throw new FieldValidationError(validation.errors);
    const author = createdBy === undefined ? undefined : this.users.get(createdBy);
    const at = new Date(this.now()).toISOString();
    const record: ConnectionRecord = {
      id: this.nextConnectionId++,
      organization,
      created_by: {
        id: author?.id ?? 0,
        first_name: author?.first_name ?? "",
        last_name: author?.last_name ?? "",
        email: author?.email ?? "admin@example.test",
        avatar: null,
      },
      created_at: at,
      updated_at: at,
      fields: { ...FIELD_DEFAULTS, ...validation.fields },
    };
    this.connections.set(record.id, record);
    return record;
  }

  /** Changes a connection's fields as the app would (a PATCH); throws FieldValidationError or on a missing id. */
  updateConnection(id: number, body: unknown): StoredConnection {
    return this.stored(this.updateRecord(this.requireRecord(id), body));
  }

  /** Internal: validate and apply fields to a record. */
  updateRecord(record: ConnectionRecord, body: unknown): ConnectionRecord {
    const validation = validateFields(body);
    if (!validation.ok) throw new FieldValidationError(validation.errors);
    record.fields = { ...record.fields, ...validation.fields } as ConnectionFields;
    record.updated_at = new Date(this.now()).toISOString();
    return record;
  }

  /** Deletes a connection (as if by hand in the app); false when there was none. */
  deleteConnection(id: number): boolean {
    return this.connections.delete(id);
  }

  /** A connection with its secrets, or undefined. */
  getConnection(id: number): StoredConnection | undefined {
    const record = this.connections.get(id);
    return record && this.stored(record);
  }

  /** Every connection (of one organization when given), in id order, with secrets. */
  listConnections(organization?: number): StoredConnection[] {
    return this.records(organization).map((record) => this.stored(record));
  }

  /** Internal: records of an organization (all when undefined), in id order. */
  records(organization?: number): ConnectionRecord[] {
    return [...this.connections.values()]
      .filter((record) => organization === undefined || record.organization === organization)
      .sort((a, b) => a.id - b.id);
  }

  /** Internal: a record when it exists in this organization. */
  recordIn(organization: number, id: number): ConnectionRecord | undefined {
    const record = this.connections.get(id);
    return record?.organization === organization ? record : undefined;
  }

  private requireRecord(id: number): ConnectionRecord {
    const record = this.connections.get(id);
    if (!record) throw new Error(`no connection ${id}`);
    return record;
  }

  private stored(record: ConnectionRecord): StoredConnection {
    const secrets = Object.fromEntries(SECRET_FIELDS.map((name) => [name, record.fields[name]])) as Record<
      SecretField,
      string | null
    >;
    const secretSha256 = Object.fromEntries(
      SECRET_FIELDS.map((name) => [name, sha256(secrets[name])]),
    ) as Record<SecretField, string | null>;
    return {
      ...serializeConnection(record),
      id: record.id,
      organization: record.organization,
      secrets,
      secretSha256,
    };
  }

  /** Forgets the recorded requests. */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Injects a fault into the next `times` (default 1) matching requests. */
  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Internal: takes one use of the first fault matching this request. */
  takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.match?.method === undefined || candidate.match.method.toUpperCase() === method) &&
        (candidate.match?.path === undefined || path.startsWith(candidate.match.path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.faults = this.faults.filter((candidate) => candidate.remaining > 0);
    return fault;
  }
}
