// Wires watches to reconciles: informers and the Secret watch enqueue keys; the queue runs one reconcile per key.
import {
  GROUP,
  ORGANIZATION_PLURAL,
  type Organization,
  PROVIDER_CONNECTION_PLURAL,
  type ProviderConnection,
  VERSION,
} from "../crds/index.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { Config } from "./config.ts";
import { TOKEN_FINALIZER } from "./constants.ts";
import type { KubeClient } from "./kube/client.ts";
import type { Informer, InformerEvent, KubernetesObject } from "./kube/informer.ts";
import { createNamespacedInformers } from "./kube/namespaced-informers.ts";
import { KubeObjects } from "./kube/objects.ts";
import { createOwnWrites, type OwnWrites } from "./kube/own-writes.ts";
import type { RenewalPriority } from "./kube/renewal-priority.ts";
import { createSecretWatch } from "./kube/secret-watch.ts";
import { apiServerTransport } from "./kube/transport.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { formatKey, type ObjectKey, parseKey } from "./object-key.ts";
import { reconcileOrganization } from "./organization/reconcile.ts";
import { OrganizationSessions } from "./organization/sessions.ts";
import { createEgressGuard } from "./providers/egress.ts";
import type { ModelCheck, ModelCheckRequest } from "./providers/types.ts";
import { createWorkQueue, type WorkQueue } from "./queue.ts";
import { connectionFinalizer } from "./reconcile/finalizer.ts";
import { reconcileConnection } from "./reconcile/index.ts";
import { CHECK_BACKOFF } from "./reconcile/model-schedule.ts";
import { OrganizationIndex } from "./reconcile/organization-index.ts";
import type { ConnectionDeps, Provisioning } from "./reconcile/ports.ts";
import { stableMessage } from "./reconcile/stable-message.ts";
import {
  connectionKey,
  connectionsOfOrganization,
  needsReconcile,
  organizationKey,
  organizationOfConnection,
  organizationReachabilityChanged,
  rivalsToWake,
  secretsOfConnection,
  secretsOfOrganization,
} from "./watches.ts";

export interface ControllerOptions {
  kc: KubeClient;
  config: Config;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  checkModels(request: ModelCheckRequest): Promise<ModelCheck>;
  /** Loads the checks of a provider that connections use, ahead of their first reconcile. */
  prepareCheck?(provider: ProviderConnection["spec"]["provider"]): void;
  /** Provisioning with background work (Azure): attached to the queue and the cache, stopped with the controller. */
  provisioning?: Provisioning;
  /** Holds the controller's API server traffic back while the leader renews its Lease. */
  renewalPriority?: RenewalPriority;
}

export interface Controller {
  /** True once both informers have listed. */
  synced(): boolean;
  /** Reconciles waiting or running now (not those scheduled for later, such as resyncs). */
  pending(): number;
  /** Stops watching, lets in-flight reconciles finish, then resolves. */
  stop(): Promise<void>;
}

/** An informer's cache, typed with our API's objects. */
type Cache<T> = Omit<Informer<KubernetesObject>, "list" | "get" | "on"> & {
  list(namespace?: string): readonly T[];
  get(namespace: string | undefined, name: string): T | undefined;
  on(event: InformerEvent, handler: (obj: T, previous?: T) => void): () => void;
};

/**
 * Starts the controller.
 *
 * Guarantees: one reconcile at a time per object; a change of a referenced Secret enqueues exactly the objects
 * that reference it; a connection's deletion enqueues its rivals (takeover); an Organization's spec change or a
 * change of its reachability enqueues its connections; status-only changes and the echoes of our own writes
 * enqueue nothing (a failing reconcile keeps its backoff). Every object is reconciled again at the resync
 * interval. All API server traffic but the Lease shares one paced, keep-alive connection pool.
 */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const { config, log, metrics, clock } = options;
  const kc = apiServerTransport(options.kc, {
    qps: config.kubeQps,
    burst: config.kubeBurst,
    maxInFlight: config.kubeMaxInFlight,
    onConnect: () => metrics.kubeConnectionsOpened.inc(),
    onThrottled: () => metrics.kubeThrottled.inc(),
    onInFlightLimit: (limit) => metrics.kubeInFlightLimit.set(limit),
    renewalPriority: options.renewalPriority,
  });
  metrics.kubeInFlightLimit.set(config.kubeMaxInFlight);
  const kube = new KubeObjects(kc, config.identity, {
    onDropped: (event) => metrics.eventsDropped.inc({ reason: event.reason }),
  });
  // The caches' objects by key, so that an answer whose echo came first is not kept (see own-writes.ts).
  const inCache =
    <T>(cache: () => Cache<T>) =>
    (key: string) => {
      const { namespace, name } = parseKey(key);
      return cache().get(namespace, name);
    };
  const ownConnectionWrites = createOwnWrites<ProviderConnection>(inCache(() => connections));
  const ownOrganizationWrites = createOwnWrites<Organization>(inCache(() => organizations));
  const connections = informerOf<ProviderConnection>(kc, PROVIDER_CONNECTION_PLURAL, options);
  // Kept by the connection events below: a reconcile asks about its Organization's peers, not the namespace.
  const byOrganization = new OrganizationIndex();
  const organizations = informerOf<Organization>(kc, ORGANIZATION_PLURAL, options);
  const secrets = createSecretWatch({
    kc,
    namespaces: config.namespaces,
    log,
    clock,
    onChange: (namespace, name) => {
      for (const owner of secrets.referrers(namespace, name)) queue.add(owner);
    },
  });
  // Values at the version the watch saw: served from the API server's watch cache (see KubeObjects.readSecret).
  const readSecret = (namespace: string, name: string) =>
    kube.readSecret(namespace, name, secrets.seenVersion(namespace, name));

  const egress = createEgressGuard({ allow: config.egressAllow });
  const sessions = new OrganizationSessions({
    readSecret,
    secretVersion: (ns, name) => secrets.version(ns, name),
    appTimeoutMs: config.appTimeoutMs,
    appWriteTimeoutMs: config.appWriteTimeoutMs,
    whoamiTtlMs: config.resyncIntervalMs,
    listingTtlMs: config.resyncIntervalMs,
    now: () => clock.now(),
    // The app's URL passes the guard's refusals; the allow list narrows provider endpoints only.
    egress: egress.connections({ enforceAllowList: false }),
    // While an Organization's app is down one probe stands in for its connections; its return wakes them all.
    breaker: {
      clock,
      probeIntervalMs: config.appProbeIntervalMs,
      onAppBack: (namespace, name) => {
        const o = organizations.get(namespace, name);
        if (o) enqueue(organizationKey(o), ...connectionsOfOrganization(o, membersOf(o)));
      },
    },
    onAppRequest: ({ method, route, status, seconds }) => {
      metrics.appRequestsTotal.inc({ method, route, code: status });
      metrics.appRequestDuration.observe({ method, route }, seconds);
    },
  });

  /**
   * Events are best effort: a refused Event (a namespace being deleted, a quota) is logged and never fails the
   * reconcile, so it can never reach a condition or skip the backoff.
   */
  const recordEvent = async (
    kind: "ProviderConnection" | "Organization",
    object: ProviderConnection | Organization,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void> => {
    try {
      await kube.event(kind, object, event);
    } catch (error) {
      log.warn({
        event: "event.failed",
        object: `${kind}/${object.metadata.namespace}/${object.metadata.name}`,
        reason: event.reason,
        error: stableMessage(error),
      });
    }
  };

  const connectionDeps: ConnectionDeps = {
    now: () => new Date(clock.now()),
    getConnection: async (ns, name) =>
      ownConnectionWrites.latest(
        formatKey({ kind: "ProviderConnection", namespace: ns, name }),
        connections.get(ns, name),
      ),
    peers: byOrganization,
    organization: (ns, name) => organizations.get(ns, name),
    session: (organization) => sessions.session(organization),
    readSecret,
    checkModels: options.checkModels,
    endpointRefusal: async (url, enforceAllowList) => {
      const decision = await egress.check(url, { enforceAllowList });
      // A name that does not resolve here may resolve where the app runs: only a refusal holds the sync.
      return decision.allowed || decision.unresolved ? undefined : decision.reason;
    },
    checkFailures: new Map(),
    checkBackoff: { ...CHECK_BACKOFF, baseMs: config.modelCheckBackoffMs },
    provision: options.provisioning?.provision,
    deprovision: options.provisioning?.deprovision,
    kube: {
      patchMetadata: async (object, metadata) => {
        const stored = await remembered(
          ownConnectionWrites,
          kube.patchMetadata("ProviderConnection", object, metadata),
        );
        const action = connectionFinalizer.change(object, stored);
        if (action) metrics.connectionFinalizerWrites.inc({ action });
        return stored;
      },
      patchStatus: (object, status) =>
        remembered(ownConnectionWrites, kube.patchStatus("ProviderConnection", object, status)),
      event: (object, event) => recordEvent("ProviderConnection", object, event),
    },
    log,
  };

  const reportsListedAt = new Map<string, Date>();
  const reconcile = async (key: ObjectKey): Promise<{ requeueAfterMs?: number }> => {
    if (key.kind === "Organization") {
      return reconcileOrganization(key.namespace, key.name, {
        now: () => new Date(clock.now()),
        getOrganization: async (ns, n) =>
          ownOrganizationWrites.latest(
            formatKey({ kind: "Organization", namespace: ns, name: n }),
            organizations.get(ns, n),
          ),
        sessions,
        patchStatus: (object, status) =>
          remembered(ownOrganizationWrites, kube.patchStatus("Organization", object, status)),
        patchMetadata: (object, metadata) =>
          remembered(ownOrganizationWrites, kube.patchMetadata("Organization", object, metadata)),
        connections: (ns) => connections.list(ns),
        connectionsSynced: () => connections.hasSynced(),
        reportIntervalMs: config.resyncIntervalMs,
        listedAt: reportsListedAt,
        organizations: (ns) => [...organizations.list(ns)],
        setTokenFinalizer: (ns, secret, present) =>
          kube.setSecretFinalizer(ns, secret, TOKEN_FINALIZER, present),
        event: (object, event) => recordEvent("Organization", object, event),
      });
    }
    const outcome = await reconcileConnection(key.namespace, key.name, connectionDeps);
    if (outcome.recheckOrganization !== undefined)
      enqueue({ kind: "Organization", namespace: key.namespace, name: outcome.recheckOrganization });
    return { requeueAfterMs: outcome.requeueAfterMs };
  };

  const queue: WorkQueue = createWorkQueue({
    concurrency: config.concurrency,
    clock,
    random: Math.random,
    baseDelayMs: 1_000,
    maxDelayMs: 5 * 60_000,
    onDepth: (depth) => metrics.queueDepth.set(depth),
    onFailure: (key, error, retryInMs) =>
      log.debug({
        event: "reconcile.retry",
        key,
        retryInMs,
        error: error instanceof Error ? error.message : String(error),
      }),
    process: async (text) => {
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const { requeueAfterMs } = await reconcile(parseKey(text));
        metrics.reconcileTotal.inc({ result: "success" });
        log.debug({ event: "reconcile.done", key: text });
        const resync = config.resyncIntervalMs;
        return { requeueAfterMs: Math.min(requeueAfterMs ?? resync, resync) };
      } catch (error) {
        metrics.reconcileTotal.inc({ result: "error" });
        throw error;
      } finally {
        stopTimer();
      }
    },
  });
  const enqueue = (...keys: ObjectKey[]) => {
    for (const key of keys) queue.add(formatKey(key));
  };
  const membersOf = (o: Organization) => byOrganization.members(o.metadata.namespace, o.metadata.name);
  const track = (key: ObjectKey, namespace: string, names: readonly string[]) => {
    secrets.untrack(formatKey(key));
    for (const name of names) secrets.track(namespace, name, formatKey(key));
  };

  options.provisioning?.attach({
    enqueue: (namespace, name) => enqueue({ kind: "ProviderConnection", namespace, name }),
    connections: () => connections.list(),
    connectionsSynced: () => connections.hasSynced(),
    onConnectionChange: (handler) => {
      connections.on("add", (c) => handler(c, false));
      connections.on("update", (c) => handler(c, false));
      connections.on("delete", (c) => handler(c, true));
    },
    watchSecrets: (onChange) => secrets.subscribe(onChange),
  });
  // Every cache is filled before the first reconcile (as controller-runtime waits for its caches): a connection
  // reconciled before its Organization was listed would report OrganizationNotFound and run again. The lists go
  // out together (no handler runs before all three are in): a start waits for the longest, not for the sum.
  await Promise.all([secrets.start(), organizations.start(), connections.start()]);
  // The wirings: each watch event, and the keys it enqueues.
  connections.on("add", (c) => {
    options.prepareCheck?.(c.spec.provider);
    byOrganization.set(c);
    track(connectionKey(c), c.metadata.namespace, secretsOfConnection(c));
    enqueue(connectionKey(c));
  });
  connections.on("update", (c, previous) => {
    byOrganization.set(c);
    track(connectionKey(c), c.metadata.namespace, secretsOfConnection(c));
    const key = formatKey(connectionKey(c));
    if (ownConnectionWrites.isEcho(key, c) || !needsReconcile(previous, c)) return;
    enqueue(connectionKey(c));
    if (c.metadata.deletionTimestamp) enqueue(...rivalsToWake(c, byOrganization.rivals(c)));
  });
  connections.on("delete", (c) => {
    byOrganization.delete(c);
    secrets.untrack(formatKey(connectionKey(c)));
    ownConnectionWrites.forget(formatKey(connectionKey(c)));
    // A deleting Organization waits for its connections to go.
    enqueue(organizationOfConnection(c), ...rivalsToWake(c, byOrganization.rivals(c)));
  });
  organizations.on("add", (o) => {
    track(organizationKey(o), o.metadata.namespace, secretsOfOrganization(o));
    enqueue(organizationKey(o), ...connectionsOfOrganization(o, membersOf(o)));
  });
  organizations.on("update", (o, previous) => {
    track(organizationKey(o), o.metadata.namespace, secretsOfOrganization(o));
    const own = ownOrganizationWrites.isEcho(formatKey(organizationKey(o)), o);
    const changed = needsReconcile(previous, o);
    if (changed && !own) enqueue(organizationKey(o));
    if (changed || organizationReachabilityChanged(previous, o))
      enqueue(...connectionsOfOrganization(o, membersOf(o)));
  });
  organizations.on("delete", (o) => {
    secrets.untrack(formatKey(organizationKey(o)));
    ownOrganizationWrites.forget(formatKey(organizationKey(o)));
    sessions.forget(o.metadata.namespace, o.metadata.name);
    enqueue(organizationKey(o), ...connectionsOfOrganization(o, membersOf(o)));
  });

  // What the caches listed, indexed first (a reconcile may start as soon as a key is enqueued), then enqueued once
  // (the add handlers see only what comes after).
  for (const c of connections.list()) byOrganization.set(c);
  for (const o of organizations.list()) {
    track(organizationKey(o), o.metadata.namespace, secretsOfOrganization(o));
    enqueue(organizationKey(o));
  }
  for (const c of connections.list()) {
    track(connectionKey(c), c.metadata.namespace, secretsOfConnection(c));
    enqueue(connectionKey(c));
  }
  metrics.setConnectionsSource(() =>
    connections.list().map((c) => ({
      provider: c.spec.provider,
      ready: (c.status?.conditions?.find((x) => x.type === "Ready")?.status ?? "Unknown") as
        | "True"
        | "False"
        | "Unknown",
    })),
  );
  metrics.setObjectsSource({
    connections: () => connections.list(),
    organizations: () => organizations.list(),
  });
  log.info({
    event: "controller.started",
    namespaces: config.namespaces?.join(",") ?? "(all)",
    concurrency: config.concurrency,
  });
  // When the backlog the caches brought is worked off (the queue empty for the first time): how long a start or a
  // new leader takes to have looked at every object, for SREs reading a rollout and for the scale bench.
  const startedAt = clock.now();
  let caughtUp: TimerHandle | undefined;
  const watchBacklog = () => {
    caughtUp = clock.setTimeout(() => {
      if (queue.depth() + queue.running() > 0) return watchBacklog();
      caughtUp = undefined;
      log.info({
        event: "controller.caught_up",
        ms: clock.now() - startedAt,
        connections: connections.list().length,
      });
    }, 200);
  };
  watchBacklog();

  return {
    synced: () => connections.hasSynced() && organizations.hasSynced() && secrets.hasSynced(),
    pending: () => queue.depth() + queue.running(),
    stop: async () => {
      if (caughtUp) clock.clearTimeout(caughtUp);
      await Promise.all([connections.stop(), organizations.stop(), secrets.stop()]);
      await queue.shutdown();
      await options.provisioning?.stop();
      log.info({ event: "controller.stopped" });
    },
  };
}

/** An informer of one of our kinds in the configured namespaces (or all). */
function informerOf<T>(kc: KubeClient, plural: string, options: ControllerOptions): Cache<T> {
  // Informer objects are the API server's JSON (timestamps are strings), which is what our types say.
  return createNamespacedInformers<KubernetesObject>({
    kc,
    resource: { group: GROUP, version: VERSION, plural },
    namespaces: options.config.namespaces,
    name: plural,
    log: options.log,
    clock: options.clock,
  }) as unknown as Cache<T>;
}

/** Records a write's answer so that the next reconcile reads it even before the cache has. */
async function remembered<T extends ProviderConnection | Organization>(
  writes: OwnWrites<T>,
  write: Promise<T>,
): Promise<T> {
  const object = await write;
  writes.wrote(`${object.kind}/${object.metadata.namespace}/${object.metadata.name}`, object);
  return object;
}
