// The contract server's memory: users (users.ts), connections per organization, how the app behaves where
// versions differ, recorded requests and injected faults (faults.ts). Tests seed and inspect it directly; the
// HTTP layer reads and writes it.
import { createHash } from "node:crypto";
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
import { type Fault, Faults, type RecordedRequest } from "./faults.ts";
import { type AddUserOptions, type Role, type SeededUser, type User, Users } from "./users.ts";

export type { Fault, FaultMatch, RecordedRequest } from "./faults.ts";
export { type AddUserOptions, MANAGING_ROLES, type Role, type SeededUser, type User } from "./users.ts";

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

/**
 * How this app behaves where Label Studio versions differ. Tests change it at any time; the defaults are the
 * documented contract.
 */
export interface AppBehaviour {
  /** whoami answers `organization_membership: {role, organization_id, active}` (newer apps). Default true. */
  whoamiShowsRole: boolean;
  /** Managers may read connections (GET) but not write them, as some versions allow. Default false (403). */
  managersMayRead: boolean;
  /**
   * The app writes `cached_available_models` itself on every create and PATCH (as apps that check a key with
   * the provider on each write do): "duringWrite" stores `value` within the write (the answer shows it);
   * "afterWrite" answers with the caller's value, then changes the record again (a later updated_at).
   */
  writesCachedModels?: { value: string; when: "duringWrite" | "afterWrite" };
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
  readonly requests: RecordedRequest[] = [];
  readonly behaviour: AppBehaviour = { whoamiShowsRole: true, managersMayRead: false };
  private readonly users: Users;
  private readonly connections = new Map<number, ConnectionRecord>();
  private readonly faults = new Faults();
  private nextConnectionId = 1;

  constructor(readonly options: AppStateOptions) {
    this.users = new Users(options);
  }

  /** The server's clock in milliseconds. */
  now(): number {
    return this.options.now();
  }

  /** Signs and checks the server's JWTs; random per server. */
  get jwtSecret(): Buffer {
    return this.users.jwtSecret;
  }

  /** Adds a user with a role in an organization; returns a legacy token and a personal access token. */
  addUser(options: AddUserOptions): SeededUser {
    return this.users.add(options);
  }

  /** Issues another personal access token (a refresh JWT) for a user; a negative ttl makes an expired one. */
  issueRefreshToken(userId: number, ttlSeconds?: number): string {
    return this.users.issueRefreshToken(userId, ttlSeconds);
  }

  /** Issues an access JWT for a user (what POST /api/token/refresh/ answers). */
  issueAccessToken(userId: number): string {
    return this.users.issueAccessToken(userId);
  }

  user(id: number): User | undefined {
    return this.users.get(id);
  }

  userByLegacyToken(token: string): User | undefined {
    return this.users.byLegacyToken(token);
  }

  isRevoked(jti: string): boolean {
    return this.users.isRevoked(jti);
  }

  /** Revokes a legacy token, or a personal access token by its jti (access tokens already out stay valid). */
  revokeToken(token: string): void {
    this.users.revoke(token);
  }

  setRole(userId: number, role: Role): void {
    this.users.require(userId).role = role;
  }

  setActiveOrganization(userId: number, organization: number): void {
    this.users.require(userId).active_organization = organization;
  }

  /** Removes a user: every token of theirs answers 401 from now on. */
  removeUser(userId: number): void {
    this.users.remove(userId);
  }

  /** Creates a connection as the app would (validated; defaults filled); throws FieldValidationError. */
  createConnection(organization: number, body: unknown, createdBy?: number): StoredConnection {
    const record = this.createRecord(organization, body, createdBy);
    return this.stored(record);
  }

  /** Seeds one of the app's internal records (`is_internal: true`, hidden from users), made by `createdBy`. */
  addInternalConnection(
    organization: number,
    fields: Record<string, unknown>,
    createdBy?: number,
  ): StoredConnection {
    return this.createConnection(organization, { ...fields, is_internal: true }, createdBy);
  }

  /** Seeds a user's own record (scope `User`: that user's personal key), made by that user. */
  addUserConnection(organization: number, userId: number, fields: Record<string, unknown>): StoredConnection {
    return this.createConnection(organization, { ...fields, scope: "User" }, userId);
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
    this.touch(record);
    return record;
  }

  /** Internal: what the app does within a create or PATCH of the API (see `behaviour.writesCachedModels`). */
  duringApiWrite(record: ConnectionRecord): void {
    const own = this.behaviour.writesCachedModels;
    if (own?.when === "duringWrite") record.fields.cached_available_models = own.value;
  }

  /** Internal: what the app does once a create or PATCH of the API was answered. */
  afterApiWrite(record: ConnectionRecord): void {
    const own = this.behaviour.writesCachedModels;
    if (own?.when !== "afterWrite" || !this.connections.has(record.id)) return;
    record.fields.cached_available_models = own.value;
    this.touch(record);
  }

  /** A new updated_at, always later than the last (the app's timestamps have microseconds; ours milliseconds). */
  private touch(record: ConnectionRecord): void {
    const last = Date.parse(record.updated_at);
    record.updated_at = new Date(Math.max(this.now(), Number.isNaN(last) ? 0 : last + 1)).toISOString();
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
    this.faults.inject(fault);
  }

  /** Removes every pending fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Internal: takes one use of the first fault matching this request. */
  takeFault(method: string, path: string): Fault | undefined {
    return this.faults.take(method, path);
  }
}
