// Reaches an Organization's app with its token: one cached client per (organization, token, CA, URL).
import { createHash } from "node:crypto";
import type { Organization } from "../../crds/index.ts";
import { type AppClient, type AppClientOptions, createAppClient } from "../app/client.ts";
import { AppError } from "../app/errors.ts";
import { REASON, type Reason } from "../constants.ts";
import type { AppConnections, OrganizationSession } from "../reconcile/ports.ts";
import { checkSecretValue } from "../reconcile/secret-values.ts";

export interface SessionDeps {
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  appTimeoutMs: number;
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

/** Asks the app who the token is, and whether it may manage connections (a list answers 403 when not). */
async function probe(organization: Organization, client: AppClient): Promise<OrganizationSession> {
  let me: { id: number; active_organization: number | null };
  try {
    me = await client.whoami();
  } catch (error) {
    const failure = sessionFailure(error);
    if (failure) return failure;
    throw error;
  }
  const pinned = organization.spec.organizationId;
  if (me.active_organization == null) {
    return notReady(REASON.OrganizationMismatch, "the token's user has no active organization");
  }
  if (pinned !== undefined && pinned !== me.active_organization) {
    return notReady(
      REASON.OrganizationMismatch,
      `spec.organizationId is ${pinned} but the token's active organization is ${me.active_organization}`,
    );
  }
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
    organizationId: me.active_organization,
    userId: me.id,
    app: connectionsOf(client),
    tokenKind: client.tokenKind === "personalAccessToken" ? "PersonalAccessToken" : "Legacy",
  };
}

function sessionFailure(error: unknown): OrganizationSession | undefined {
  const kind = (error as { kind?: string })?.kind;
  const message = (error as { message?: string })?.message ?? "";
  if (kind === "Unauthorized")
    return notReady(REASON.InvalidToken, `the app rejected the token (401): ${message}`);
  if (kind === "EgressDenied") {
    return notReady(
      REASON.EgressDenied,
      `spec.url is refused by the egress guard, no request was sent: ${message}`,
    );
  }
  if (kind === "Forbidden") {
    return notReady(
      REASON.InsufficientRole,
      `the token's user is not an owner or administrator (403): ${message}`,
    );
  }
  return undefined;
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
