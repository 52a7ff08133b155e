// Wires watches to reconciles: informers and the Secret watch enqueue keys; the queue runs one reconcile per key.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import {
  GROUP,
  ORGANIZATION_PLURAL,
  type Organization,
  PROVIDER_CONNECTION_PLURAL,
  type ProviderConnection,
  scopeOf,
  VERSION,
} from "../crds/index.ts";
import { provisionedSecretName } from "./azure/owned-secret.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { TOKEN_FINALIZER } from "./constants.ts";
import { createInformer, type Informer, type InformerEvent } from "./kube/informer.ts";
import { KubeObjects } from "./kube/objects.ts";
import { createSecretWatch } from "./kube/secret-watch.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { reconcileOrganization } from "./organization/reconcile.ts";
import { OrganizationSessions } from "./organization/sessions.ts";
import { createEgressGuard } from "./providers/egress.ts";
import type { ModelCheck, ModelCheckRequest } from "./providers/types.ts";
import { createWorkQueue } from "./queue.ts";
import { credentialRefs, referencedSecretNames } from "./reconcile/credentials.ts";
import { reconcileConnection } from "./reconcile/index.ts";
import { CHECK_BACKOFF } from "./reconcile/model-schedule.ts";
import type { ConnectionDeps, Provisioning } from "./reconcile/ports.ts";
import { stableMessage } from "./reconcile/stable-message.ts";

export interface ControllerOptions {
  kc: KubeConfig;
  config: Config;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  checkModels(request: ModelCheckRequest): Promise<ModelCheck>;
  /** Provisioning with background work (Azure): attached to the queue and the cache, stopped with the controller. */
  provisioning?: Provisioning;
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
  on(event: InformerEvent, handler: (obj: T) => void): () => void;
};

const CONNECTION = "ProviderConnection";
const ORGANIZATION = "Organization";

/**
 * Starts the controller.
 *
 * Guarantees: one reconcile at a time per object; a Secret change enqueues exactly the objects that reference
 * it; a connection's deletion enqueues the other connections of its organization and provider (takeover); an
 * Organization's change enqueues its connections. Every object is reconciled again at the resync interval.
 */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const { kc, config, log, metrics, clock } = options;
  const kube = new KubeObjects(kc, config.identity);
  // Informer objects are the API server's JSON (timestamps are strings), which is what our types say.
  const connections = createInformer<KubernetesObject>({
    kc,
    resource: { group: GROUP, version: VERSION, plural: PROVIDER_CONNECTION_PLURAL },
    namespace: config.namespace,
    name: PROVIDER_CONNECTION_PLURAL,
    log,
    clock,
  }) as unknown as Cache<ProviderConnection>;
  const organizations = createInformer<KubernetesObject>({
    kc,
    resource: { group: GROUP, version: VERSION, plural: ORGANIZATION_PLURAL },
    namespace: config.namespace,
    name: ORGANIZATION_PLURAL,
    log,
    clock,
  }) as unknown as Cache<Organization>;

  const egress = createEgressGuard({ allow: config.egressAllow });
  const sessions = new OrganizationSessions({
    readSecret: (ns, name) => kube.readSecret(ns, name),
    appTimeoutMs: config.appTimeoutMs,
    appWriteTimeoutMs: config.appWriteTimeoutMs,
    whoamiTtlMs: config.resyncIntervalMs,
    now: () => clock.now(),
    // The app's URL passes the guard's refusals; the allow list narrows provider endpoints only.
    egress: egress.connections({ enforceAllowList: false }),
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
    getConnection: (ns, name) => kube.get("ProviderConnection", ns, name),
    connections: (ns) => [...connections.list(ns)],
    organization: (ns, name) => organizations.get(ns, name),
    session: (organization) => sessions.session(organization),
    readSecret: (ns, name) => kube.readSecret(ns, name),
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
      patchMetadata: (object, metadata) => kube.patchMetadata("ProviderConnection", object, metadata),
      patchStatus: (object, status) => kube.patchStatus("ProviderConnection", object, status),
      event: (object, event) => recordEvent("ProviderConnection", object, event),
    },
    log,
  };

  const reportsListedAt = new Map<string, Date>();
  const queue = createWorkQueue({
    concurrency: config.concurrency,
    clock,
    random: Math.random,
    baseDelayMs: 500,
    maxDelayMs: 5 * 60_000,
    onDepth: (depth) => metrics.queueDepth.set(depth),
    onFailure: (key, error, retryInMs) =>
      log.debug({
        event: "reconcile.retry",
        key,
        retryInMs,
        error: error instanceof Error ? error.message : String(error),
      }),
    process: async (key) => {
      const [kind, namespace, name] = key.split("/") as [string, string, string];
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        let requeueAfterMs: number | undefined;
        if (kind === CONNECTION) {
          const outcome = await reconcileConnection(namespace, name, connectionDeps);
          requeueAfterMs = outcome.requeueAfterMs;
          if (outcome.recheckOrganization !== undefined)
            queue.add(`${ORGANIZATION}/${namespace}/${outcome.recheckOrganization}`);
        } else {
          const outcome = await reconcileOrganization(namespace, name, {
            now: () => new Date(clock.now()),
            getOrganization: (ns, n) => kube.get("Organization", ns, n),
            sessions,
            patchStatus: (object, status) => kube.patchStatus("Organization", object, status),
            patchMetadata: (object, metadata) => kube.patchMetadata("Organization", object, metadata),
            connections: (ns) => connections.list(ns),
            connectionsSynced: () => connections.hasSynced(),
            reportIntervalMs: config.resyncIntervalMs,
            listedAt: reportsListedAt,
            organizations: (ns) => [...organizations.list(ns)],
            setTokenFinalizer: (ns, secret, present) =>
              kube.setSecretFinalizer(ns, secret, TOKEN_FINALIZER, present),
            event: (object, event) => recordEvent("Organization", object, event),
          });
          requeueAfterMs = outcome.requeueAfterMs;
        }
        metrics.reconcileTotal.inc({ result: "success" });
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

  const connectionKey = (c: ProviderConnection) => `${CONNECTION}/${c.metadata.namespace}/${c.metadata.name}`;
  const organizationKey = (o: Organization) => `${ORGANIZATION}/${o.metadata.namespace}/${o.metadata.name}`;

  const secrets = createSecretWatch({
    kc,
    log,
    onChange: (namespace: string, name: string) => {
      for (const owner of secrets.referrers(namespace, name)) queue.add(owner);
    },
  });

  const trackConnection = (c: ProviderConnection) => {
    const names = referencedSecretNames(
      credentialRefs(c.spec, c.spec.azure?.provision ? provisionedSecretName(c) : undefined),
    );
    // A provisioned connection also waits on its Azure credentials Secret.
    const azureCredentials = c.spec.azure?.provision?.account.credentialsSecretRef?.name;
    if (azureCredentials && !names.includes(azureCredentials)) names.push(azureCredentials);
    secrets.untrack(connectionKey(c));
    for (const name of names) secrets.track(c.metadata.namespace, name, connectionKey(c));
  };
  const trackOrganization = (o: Organization) => {
    secrets.untrack(organizationKey(o));
    secrets.track(o.metadata.namespace, o.spec.tokenSecretRef.name, organizationKey(o));
    if (o.spec.tls?.caSecretRef)
      secrets.track(o.metadata.namespace, o.spec.tls.caSecretRef.name, organizationKey(o));
  };
  /** The other connections that compete for the same organization-wide provider. */
  const rivals = (c: ProviderConnection) =>
    scopeOf(c.spec.provider) === "Organization"
      ? connections
          .list()
          .filter(
            (o) =>
              o.metadata.namespace === c.metadata.namespace &&
              o.metadata.name !== c.metadata.name &&
              o.spec.provider === c.spec.provider &&
              o.spec.organizationRef.name === c.spec.organizationRef.name,
          )
      : [];

  connections.on("add", (c) => {
    trackConnection(c);
    queue.add(connectionKey(c));
  });
  connections.on("update", (c) => {
    trackConnection(c);
    queue.add(connectionKey(c));
    if (c.metadata.deletionTimestamp) for (const r of rivals(c)) queue.add(connectionKey(r));
  });
  connections.on("delete", (c) => {
    secrets.untrack(connectionKey(c));
    // A deleting Organization waits for its connections to go.
    queue.add(`${ORGANIZATION}/${c.metadata.namespace}/${c.spec.organizationRef.name}`);
    for (const r of rivals(c)) queue.add(connectionKey(r));
  });
  const onOrganization = (o: Organization) => {
    trackOrganization(o);
    queue.add(organizationKey(o));
    for (const c of connections.list()) {
      if (c.metadata.namespace === o.metadata.namespace && c.spec.organizationRef.name === o.metadata.name) {
        queue.add(connectionKey(c));
      }
    }
  };
  organizations.on("add", onOrganization);
  organizations.on("update", onOrganization);
  organizations.on("delete", (o) => {
    secrets.untrack(organizationKey(o));
    sessions.forget(o.metadata.namespace, o.metadata.name);
    onOrganization(o);
  });

  options.provisioning?.attach({
    enqueue: (namespace, name) => queue.add(`${CONNECTION}/${namespace}/${name}`),
    connections: () => connections.list(),
  });
  await Promise.all([organizations.start(), connections.start()]);
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
    namespace: config.namespace ?? "(all)",
    concurrency: config.concurrency,
  });

  return {
    synced: () => connections.hasSynced() && organizations.hasSynced(),
    pending: () => queue.depth() + queue.running(),
    stop: async () => {
      await Promise.all([connections.stop(), organizations.stop(), secrets.stop()]);
      await queue.shutdown();
      await options.provisioning?.stop();
      log.info({ event: "controller.stopped" });
    },
  };
}
