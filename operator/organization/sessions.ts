// Reaches an Organization's app with its token: one cached client per (organization, token, CA, URL).
import { createHash } from "node:crypto";
import type { Organization } from "../../crds/index.ts";
import { type AppClient, type AppClientOptions, createAppClient } from "../app/client.ts";
import { AppError } from "../app/errors.ts";
import { type AppWhoami, roleManagesConnections } from "../app/schemas.ts";
import { REASON, type Reason } from "../constants.ts";
import { errorPolicy } from "../error-policy.ts";
import type { AppConnections, OrganizationSession } from "../reconcile/ports.ts";
import { checkSecretValue } from "../reconcile/secret-values.ts";

export interface SessionDeps {
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  appTimeoutMs: number;
  /** Per-attempt timeout of writes (create, update, delete), which some apps answer only after a provider check. */
  appWriteTimeoutMs?: number;
  /** How long a whoami answer is trusted before it is asked again. */
  whoamiTtlMs: number;
  now(): number;
  /** Called for every app request, for metrics. */
  onAppRequest?: AppClientOptions["metrics"];
  /** The egress guard's hooks for the app's URL (no metadata or link-local address, in any spelling). */
  egress?: AppClientOptions["egress"];
}

interface CachedSession {
  key: string;
  client: AppClient;
  session?: OrganizationSession;
  checkedAt?: number;
}

/**
 * Sessions for Organizations. A changed token, CA or URL makes a new client (the key covers their hashes, never
 * their values); whoami is asked at most once per TTL, or when `refresh` forces it (the Organization reconcile).
 *
 * Caveats: a session found NotReady is cached like a Ready one; the Organization reconcile refreshes it when the
 * Organization or its Secret changes.
 */
export class OrganizationSessions {
  readonly #cache = new Map<string, CachedSession>();
  readonly #deps: SessionDeps;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
  }

  /** The session for `organization`, from cache when fresh. Throws on transient failures (app unreachable). */
  async session(organization: Organization, refresh = false): Promise<OrganizationSession> {
    const { namespace, name } = organization.metadata;
    const id = `${namespace}/${name}`;
    const { spec } = organization;
    const token = await this.#deps.readSecret(namespace, spec.tokenSecretRef.name);
    if (token === undefined)
      return notReady(REASON.SecretNotFound, `token Secret ${spec.tokenSecretRef.name} not found`);
    const rawToken = token[spec.tokenSecretRef.key];
    if (!rawToken) {
      return notReady(
        REASON.SecretKeyMissing,
        `token Secret ${spec.tokenSecretRef.name} has no key ${spec.tokenSecretRef.key}`,
      );
    }
    const checked = checkSecretValue("appToken", rawToken, {
      secret: spec.tokenSecretRef.name,
      key: spec.tokenSecretRef.key,
    });
    if (!checked.ok) return notReady(REASON.InvalidSecretValue, checked.message);
    const tokenValue = checked.value;
    let caPem: string | undefined;
    const caRef = spec.tls?.caSecretRef;
    if (caRef) {
      const ca = await this.#deps.readSecret(namespace, caRef.name);
      caPem = ca?.[caRef.key];
      if (!caPem)
        return notReady(REASON.SecretNotFound, `CA Secret ${caRef.name} or its key ${caRef.key} not found`);
    }
    const key = hash([
      spec.url,
      tokenValue,
      caPem ?? "",
      String(spec.tls?.insecureSkipVerify ?? false),
      String(spec.organizationId ?? ""),
      String(spec.adoptExisting ?? false),
    ]);
    let cached = this.#cache.get(id);
    if (!cached || cached.key !== key) {
      // The replaced client's connections would otherwise stay open until the app closes them.
      void cached?.client.close().catch(() => undefined);
      cached = {
        key,
        client: createAppClient({
          url: spec.url,
          token: tokenValue,
          caPem,
          insecureSkipVerify: spec.tls?.insecureSkipVerify ?? false,
          timeoutMs: this.#deps.appTimeoutMs,
          writeTimeoutMs: this.#deps.appWriteTimeoutMs,
          metrics: this.#deps.onAppRequest,
          egress: this.#deps.egress,
        }),
      };
      this.#cache.set(id, cached);
    }
    const fresh =
      cached.checkedAt !== undefined && this.#deps.now() - cached.checkedAt < this.#deps.whoamiTtlMs;
    if (!refresh && fresh && cached.session) return withOrganization(cached.session, organization);
    cached.session = await probe(organization, cached.client);
    cached.checkedAt = this.#deps.now();
    return cached.session;
  }

  /** Drops the Organization's session and closes its client. */
  forget(namespace: string, name: string): void {
    const id = `${namespace}/${name}`;
    void this.#cache
      .get(id)
      ?.client.close()
      .catch(() => undefined);
    this.#cache.delete(id);
  }
}

/**
 * Asks the app who the token is, and whether it may manage connections: from whoami's
 * `organization_membership.role` when the app gives it (before any other call), else from a list answering 403.
 */
async function probe(organization: Organization, client: AppClient): Promise<OrganizationSession> {
  let me: AppWhoami;
  try {
    me = await client.whoami();
  } catch (error) {
    const failure = sessionFailure(error);
    if (failure) return failure;
    throw error;
  }
  const pinned = organization.spec.organizationId;
  const active = me.active_organization;
  if (active == null) {
    return notReady(REASON.OrganizationMismatch, "the token's user has no active organization");
  }
  if (pinned !== undefined && pinned !== active) {
    return notReady(
      REASON.OrganizationMismatch,
      `spec.organizationId is ${pinned} but the token's active organization is ${active}`,
    );
  }
  // A membership of another organization says nothing about this one.
  const membership = me.organization_membership;
  const role =
    membership && (membership.organization_id == null || membership.organization_id === active)
      ? membership.role
      : undefined;
  const verdict = role === undefined ? "unknown" : roleManagesConnections(role);
  if (verdict === "cannot") {
    return notReady(
      REASON.InsufficientRole,
      `the token's user has role ${role} in organization ${active}; managing connections needs an owner or administrator`,
    );
  }
  // One read either way: it proves the connection endpoints answer this token, and for an app that does not say
  // the role (or says one we do not know) its 403 is how the role is learnt.
  try {
    await client.listConnections();
  } catch (error) {
    const failure = sessionFailure(error);
    if (failure) return failure;
    throw error;
  }
  return {
    kind: "Ready",
    organization,
    organizationId: active,
    userId: me.id,
    app: connectionsOf(client),
    tokenKind: client.tokenKind === "personalAccessToken" ? "PersonalAccessToken" : "Legacy",
  };
}

/** A token the app rejects (401), a user without the role (403) or a refused URL makes the session NotReady, not an error. */
function sessionFailure(error: unknown): OrganizationSession | undefined {
  const verdict = errorPolicy(error);
  const rejected =
    verdict.reason === REASON.InvalidToken ||
    verdict.reason === REASON.InsufficientRole ||
    verdict.reason === REASON.EgressDenied;
  return rejected ? notReady(verdict.reason, verdict.message) : undefined;
}

function connectionsOf(client: AppClient): AppConnections {
  return {
    get: async (id) => {
      try {
        return await client.getConnection(id);
      } catch (error) {
        if (error instanceof AppError && error.kind === "NotFound") return undefined;
        throw error;
      }
    },
    list: () => client.listConnections(),
    create: (fields) => client.createConnection(fields),
    update: (id, fields) => client.updateConnection(id, fields),
    remove: async (id) => {
      await client.deleteConnection(id);
    },
  };
}

function withOrganization(session: OrganizationSession, organization: Organization): OrganizationSession {
  return session.kind === "Ready" ? { ...session, organization } : session;
}

function notReady(reason: Reason, message: string): OrganizationSession {
  return { kind: "NotReady", reason, message };
}

function hash(parts: string[]): string {
  const h = createHash("sha256");
  for (const part of parts) h.update(`${part.length}:${part}`);
  return h.digest("hex");
}
