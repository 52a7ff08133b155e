// Reaches an Organization's app with its token: one cached client per (organization, token, CA, URL).
import { createHash } from "node:crypto";
import type { Organization } from "../../crds/index.ts";
import { type AppClient, type AppClientOptions, createAppClient } from "../app/client.ts";
import { AppError } from "../app/errors.ts";
import { type AppConnection, type AppWhoami, roleManagesConnections } from "../app/schemas.ts";
import type { Clock } from "../clock.ts";
import { REASON, type Reason } from "../constants.ts";
import { errorPolicy } from "../error-policy.ts";
import type { AppConnections, OrganizationSession } from "../reconcile/ports.ts";
import { checkSecretValue } from "../reconcile/secret-values.ts";
import { type AppBreaker, createAppBreaker, outcomeOfError, throughBreaker } from "./breaker.ts";
import { type AppListing, createAppListing } from "./listing.ts";

export interface SessionDeps {
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  appTimeoutMs: number;
  /** Per-attempt timeout of writes (create, update, delete), which some apps answer only after a provider check. */
  appWriteTimeoutMs?: number;
  /** How long a whoami answer is trusted before it is asked again. */
  whoamiTtlMs: number;
  now(): number;
  /** How long the shared listing of an organization's records is trusted (the resync interval). */
  listingTtlMs: number;
  /**
   * A Secret's resourceVersion from the Secret watch ("absent" when missing, undefined when not known): while the
   * token's and CA's versions stay the same, the session is reused without reading them again.
   */
  secretVersion?(namespace: string, name: string): string | undefined;
  /** Called for every app request, for metrics. */
  onAppRequest?: AppClientOptions["metrics"];
  /** The egress guard's hooks for the app's URL (no metadata or link-local address, in any spelling). */
  egress?: AppClientOptions["egress"];
  /**
   * The circuit breaker per Organization: while its app is down, one probe per `probeIntervalMs` instead of a
   * request per connection; `onAppBack` is called when it answers again (wake the connections that waited).
   */
  breaker?: { clock: Clock; probeIntervalMs: number; onAppBack(namespace: string, name: string): void };
}

interface CachedSession {
  key: string;
  /** The spec's non-secret parts and the Secrets' resourceVersions the key was made from. */
  versions?: string;
  client: AppClient;
  listing: AppListing;
  breaker?: AppBreaker;
  session?: OrganizationSession;
  checkedAt?: number;
  /** The probe under way, shared by callers that find no fresh session. */
  probing?: Promise<OrganizationSession>;
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
    const versions = this.#versions(organization);
    const known = this.#cache.get(id);
    if (
      !refresh &&
      versions !== undefined &&
      known?.versions === versions &&
      known.session &&
      this.#fresh(known)
    )
      return withOrganization(known.session, organization);
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
      cached?.breaker?.stop();
      const direct = createAppClient({
        url: spec.url,
        token: tokenValue,
        caPem,
        insecureSkipVerify: spec.tls?.insecureSkipVerify ?? false,
        timeoutMs: this.#deps.appTimeoutMs,
        writeTimeoutMs: this.#deps.appWriteTimeoutMs,
        metrics: this.#deps.onAppRequest,
        egress: this.#deps.egress,
      });
      const breaker = this.#breakerFor(namespace, name, direct);
      const client = breaker ? behindBreaker(direct, breaker) : direct;
      cached = { key, client, breaker, listing: this.#listingFor(client) };
      this.#cache.set(id, cached);
    }
    cached.versions = versions;
    if (!refresh && this.#fresh(cached) && cached.session)
      return withOrganization(cached.session, organization);
    // Concurrent first reconciles of an organization's connections share one probe (whoami and a listing).
    if (!refresh && cached.probing) return withOrganization(await cached.probing, organization);
    const entry = cached;
    entry.probing = probe(organization, entry.client, entry.listing);
    try {
      entry.session = await entry.probing;
      entry.checkedAt = this.#deps.now();
    } finally {
      entry.probing = undefined;
    }
    return entry.session;
  }

  /**
   * The shared listing of the Organization's app records, once a session has reached the app (for reports that
   * read the organization's records without listing again).
   */
  listing(namespace: string, name: string): AppListing | undefined {
    return this.#cache.get(`${namespace}/${name}`)?.listing;
  }

  #breakerFor(namespace: string, name: string, client: AppClient): AppBreaker | undefined {
    const options = this.#deps.breaker;
    if (!options) return undefined;
    return createAppBreaker({
      organization: `${namespace}/${name}`,
      clock: options.clock,
      probeIntervalMs: options.probeIntervalMs,
      probe: async () => {
        try {
          await client.whoami();
          return "answered";
        } catch (error) {
          return outcomeOfError(error) ?? "answered";
        }
      },
      onClose: () => options.onAppBack(namespace, name),
    });
  }

  #fresh(cached: CachedSession): boolean {
    return cached.checkedAt !== undefined && this.#deps.now() - cached.checkedAt < this.#deps.whoamiTtlMs;
  }

  #listingFor(client: AppClient): AppListing {
    return createAppListing({
      list: () => client.listConnections(),
      get: async (recordId) => {
        try {
          return await client.getConnection(recordId);
        } catch (error) {
          if (error instanceof AppError && error.kind === "NotFound") return undefined;
          throw error;
        }
      },
      ttlMs: this.#deps.listingTtlMs,
      now: () => this.#deps.now(),
    });
  }

  /** What the session depends on, without reading a Secret; undefined when a version is not known. */
  #versions(organization: Organization): string | undefined {
    const { namespace } = organization.metadata;
    const { spec } = organization;
    const version = this.#deps.secretVersion;
    if (!version) return undefined;
    const token = version(namespace, spec.tokenSecretRef.name);
    const ca = spec.tls?.caSecretRef ? version(namespace, spec.tls.caSecretRef.name) : "-";
    if (token === undefined || ca === undefined) return undefined;
    return hash([
      spec.url,
      JSON.stringify(spec.tokenSecretRef),
      JSON.stringify(spec.tls ?? {}),
      String(spec.organizationId ?? ""),
      String(spec.adoptExisting ?? false),
      token,
      ca,
    ]);
  }

  /** Drops the Organization's session and closes its client. */
  forget(namespace: string, name: string): void {
    const id = `${namespace}/${name}`;
    const cached = this.#cache.get(id);
    cached?.breaker?.stop();
    void cached?.client.close().catch(() => undefined);
    this.#cache.delete(id);
  }
}

/**
 * Asks the app who the token is, and whether it may manage connections: from whoami's
 * `organization_membership.role` when the app gives it (before any other call), else from a list answering 403.
 */
async function probe(
  organization: Organization,
  client: AppClient,
  listing: AppListing,
): Promise<OrganizationSession> {
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
    listing.fill(await client.listConnections());
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
    app: connectionsOf(client, listing),
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

/** The app's connections as reconciles use them: reads from the shared listing, writes that keep it current. */
function connectionsOf(client: AppClient, listing: AppListing): AppConnections {
  return {
    get: (id, options) => listing.record(id, options),
    list: async (options) => {
      const recent = options?.freshSince !== undefined && (listing.listedAt() ?? -1) >= options.freshSince;
      if (options?.fresh && !recent) listing.invalidate();
      return [...(options?.matching ? await listing.candidates(options.matching) : await listing.records())];
    },
    // A failed write may still have been applied (a lost answer): the next read lists the app again, so the
    // record it may have made is adopted, not duplicated.
    create: (fields) => rememberWrite(listing, client.createConnection(fields)),
    update: (id, fields) => rememberWrite(listing, client.updateConnection(id, fields)),
    remove: async (id) => {
      try {
        await client.deleteConnection(id);
      } catch (error) {
        listing.invalidate();
        throw error;
      }
      listing.forget(id);
    },
  };
}

async function rememberWrite(listing: AppListing, write: Promise<AppConnection>): Promise<AppConnection> {
  try {
    const record = await write;
    listing.remember(record);
    return record;
  } catch (error) {
    listing.invalidate();
    throw error;
  }
}

/** `client` with every request through the Organization's breaker (refused, unsent, while its app is down). */
function behindBreaker(client: AppClient, breaker: AppBreaker): AppClient {
  const connections = "/api/model-provider-connections/";
  const connection = "/api/model-provider-connections/{id}/";
  return {
    get tokenKind() {
      return client.tokenKind;
    },
    whoami: () =>
      throughBreaker(breaker, { method: "GET", route: "/api/current-user/whoami" }, () => client.whoami()),
    listConnections: (options) =>
      throughBreaker(breaker, { method: "GET", route: connections }, () => client.listConnections(options)),
    getConnection: (id) =>
      throughBreaker(breaker, { method: "GET", route: connection }, () => client.getConnection(id)),
    createConnection: (fields) =>
      throughBreaker(breaker, { method: "POST", route: connections }, () => client.createConnection(fields)),
    updateConnection: (id, fields) =>
      throughBreaker(breaker, { method: "PATCH", route: connection }, () =>
        client.updateConnection(id, fields),
      ),
    deleteConnection: (id) =>
      throughBreaker(breaker, { method: "DELETE", route: connection }, () => client.deleteConnection(id)),
    providerChoices: () =>
      throughBreaker(breaker, { method: "GET", route: `${connections}provider-choices` }, () =>
        client.providerChoices(),
      ),
    close: () => client.close(),
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
