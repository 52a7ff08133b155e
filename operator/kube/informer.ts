// A resilient informer: client-node's ListWatch cache, restarted with backoff when it stops on an error, watching
// with bookmarks so that a quiet watch resumes from a fresh resourceVersion instead of re-listing.
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from "@kubernetes/client-node";
import { type Clock, sleep, systemClock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { listAll } from "./list.ts";

/** Which resource an informer watches: `group` is "" for the core API. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

/** What a probe needs to judge an informer. */
export interface InformerStatus {
  /** start() was called and stop() was not. */
  started: boolean;
  /** The first list completed; stays true across restarts (the cache is kept). */
  synced: boolean;
  /** When the informer began failing without recovering since (ms since the epoch), if it is failing. */
  failingSinceMs: number | undefined;
  /** How often the informer was restarted after an error. */
  restarts: number;
  /** BOOKMARK events received. */
  bookmarks: number;
}

export type InformerEvent = "add" | "update" | "delete";

/** A read-only cache of one resource kind, kept current by a watch. */
export interface Informer<T extends KubernetesObject> {
  /** Every cached object, or those of one namespace. */
  list(namespace?: string): readonly T[];
  /** One cached object; `namespace` is undefined for cluster-scoped kinds. */
  get(namespace: string | undefined, name: string): T | undefined;
  /**
   * Registers a handler; returns a function that removes it. A throwing handler is logged, never fatal. Update
   * handlers also get the object as cached before the event (undefined after a re-list, when it is not known).
   */
  on(event: InformerEvent, handler: (obj: T, previous?: T) => void): () => void;
  /** True once the first list has filled the cache. */
  hasSynced(): boolean;
  status(): InformerStatus;
  /** Starts listing and watching; resolves once synced (or stopped). Retries with backoff until then. */
  start(): Promise<void>;
  /** Stops watching and any pending restart. The cache keeps its last state. */
  stop(): Promise<void>;
}

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** The collection to watch, e.g. `/apis/modelkeys.dev/v1alpha1/providerconnections`; or give `resource`. */
  path?: string;
  /** The resource to watch, when `path` is not given. */
  resource?: ResourceRef;
  /** With `resource`: watch one namespace; undefined means all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Applied to every listed and watched object before it is cached or handed to handlers, e.g. to keep only a
   * fingerprint of a Secret. Must keep `metadata.name`, `metadata.namespace` and `metadata.resourceVersion`.
   */
  transform?: (obj: KubernetesObject) => T;
  /** A name for logs, e.g. "providerconnections". */
  name?: string;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Restart backoff after an error: full jitter between 0 and min(maxMs, baseMs·2^n). Defaults 1s and 60s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /**
   * Server-side watch timeout in seconds; the server closes the watch then (with a bookmark just before) and the
   * informer resumes from the latest resourceVersion. Default: random between 5 and 10 minutes, as client-go.
   */
  watchTimeoutSeconds?: () => number;
  /** A watch that delivers nothing (not even a bookmark) this long is considered dead and reopened. Default 3m. */
  watchIdleTimeoutMs?: number;
}

/** The collection path of a resource, e.g. /apis/modelkeys.dev/v1alpha1/namespaces/ml/providerconnections. */
export function resourcePath(resource: ResourceRef, namespace?: string): string {
  const base =
    resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${resource.plural}`;
}

/**
 * Creates an informer for a custom or core resource.
 *
 * Guarantees: once synced, the cache holds every object the server lists for the selectors, and handlers see each
 * add, update (a new resourceVersion) and delete, also those missed while disconnected (a re-list after 410 Gone
 * reports vanished objects as deletes). A watch or list error never stops the informer for good: it restarts with
 * jittered exponential backoff, resuming from the last resourceVersion, and re-lists when that is too old.
 * Watches ask for bookmarks (`allowWatchBookmarks=true`), so a quiet resource keeps a fresh resourceVersion.
 * Assumptions: handlers are quick and only enqueue work. Objects are plain JSON as the API server sent them
 * (dates are strings), after `transform`.
 * Caveats: the watch idle timeout is set through a private field of client-node 2.0's `Watch`
 * (`requestTimeoutMs`); if a later version renames it, quiet watches fall back to reopening every 30s, which is
 * harmless. `status().failingSinceMs` is what a liveness probe should judge.
 */
export function createInformer<T extends KubernetesObject>(options: InformerOptions<T>): Informer<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const baseMs = options.backoff?.baseMs ?? 1000;
  const maxMs = options.backoff?.maxMs ?? 60_000;
  if (!options.path && !options.resource) throw new Error("createInformer needs a path or a resource");
  const path = options.path ?? resourcePath(options.resource as ResourceRef, options.namespace);
  const name = options.name ?? path.split("/").slice(-1)[0];
  const log = options.log?.child({ informer: name });
  const transform = options.transform ?? ((obj: KubernetesObject) => obj as T);

  let started = false;
  let synced = false;
  let listedSinceWatch = false;
  let failures = 0;
  let failingSinceMs: number | undefined;
  let restarts = 0;
  let bookmarks = 0;
  let previous: T | undefined;
  let restartTimer: unknown;
  let resolveStart: (() => void) | undefined;
  const whenSynced = new Promise<void>((resolve) => {
    resolveStart = resolve;
  });
  let stopped = deferred();
  const handlers: Record<InformerEvent, Set<(obj: T, previous?: T) => void>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };

  const healthy = () => {
    failures = 0;
    failingSinceMs = undefined;
  };

  const watch = new InformerWatch(options.kc, {
    idleTimeoutMs: options.watchIdleTimeoutMs ?? 180_000,
    timeoutSeconds: options.watchTimeoutSeconds ?? (() => Math.floor(300 + random() * 300)),
    transform,
    onOpen: () => {
      // ListWatch opens a watch only after it has applied a list (or it resumes from a resourceVersion it has).
      if (listedSinceWatch && !synced) {
        synced = true;
        log?.debug({ event: "informer.synced" });
        resolveStart?.();
      }
      listedSinceWatch = false;
    },
    onEvent: (type) => {
      if (type === "BOOKMARK") bookmarks++;
      healthy();
    },
    // Called before ListWatch replaces the cached object: what an update handler compares against.
    onObject: (obj) => {
      previous = lw.get(obj.metadata?.name ?? "", obj.metadata?.namespace) as T | undefined;
    },
    isStopped: () => !started,
  });

  const listFn = async (): Promise<KubernetesListObject<T>> => {
    const list = await listAll(options.kc, path, options.labelSelector, options.fieldSelector);
    healthy();
    listedSinceWatch = true;
    return { ...list, items: list.items.map(transform) };
  };

  const lw = new ListWatch<T>(path, watch, listFn, false, options.labelSelector, options.fieldSelector, {
    delayFn: (ms) => sleep(clock, ms),
  });

  for (const event of ["add", "update", "delete"] as const) {
    lw.on(event, (obj) => {
      // Only the watch event's own predecessor (a re-list's update has none).
      const before =
        event === "update" &&
        previous?.metadata?.name === obj.metadata?.name &&
        previous?.metadata?.namespace === obj.metadata?.namespace
          ? previous
          : undefined;
      previous = undefined;
      for (const handler of handlers[event]) {
        try {
          handler(obj, before);
        } catch (err) {
          log?.error({ event: "informer.handler_failed", err, object: describe(obj) });
        }
      }
    });
  }

  const scheduleRestart = (err: unknown) => {
    if (!started) return;
    failures++;
    failingSinceMs ??= clock.now();
    const delay = Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (failures - 1)));
    log?.warn({ event: "informer.restarting", err, failures, delayMs: delay });
    clock.clearTimeout(restartTimer);
    restartTimer = clock.setTimeout(() => {
      if (!started) return;
      restarts++;
      void run();
    }, delay);
  };

  // ListWatch stops for good on any error but 410 Gone and a client-side timeout; start it again.
  lw.on("error", scheduleRestart);

  const run = async () => {
    try {
      await lw.start();
    } catch (err) {
      // start() throws only before a request is made (e.g. no current cluster).
      scheduleRestart(err);
    }
  };

  return {
    list: (namespace) => lw.list(namespace),
    get: (namespace, objName) => lw.get(objName, namespace),
    on(event, handler) {
      handlers[event].add(handler);
      return () => handlers[event].delete(handler);
    },
    hasSynced: () => synced,
    status: () => ({ started, synced, failingSinceMs, restarts, bookmarks }),
    start() {
      if (started) return whenSynced;
      started = true;
      void run();
      // Resolves once synced, or when stopped before that.
      return Promise.race([whenSynced, stopped.promise]);
    },
    async stop() {
      started = false;
      clock.clearTimeout(restartTimer);
      await lw.stop();
      stopped.resolve();
      stopped = deferred();
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function describe(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

interface InformerWatchOptions {
  idleTimeoutMs: number;
  timeoutSeconds: () => number;
  transform: (obj: KubernetesObject) => KubernetesObject;
  onOpen: () => void;
  onEvent: (type: string) => void;
  onObject: (obj: KubernetesObject) => void;
  /** True once the informer was stopped: a watch that opens after that is closed at once. */
  isStopped: () => boolean;
}

/** client-node's Watch, asking for bookmarks and a server-side timeout, transforming objects as they arrive. */
class InformerWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly opts: InformerWatchOptions,
  ) {
    super(config);
    // Private in client-node 2.0: the connect and inactivity timeout of a watch (30s by default). Bookmarks come
    // about once a minute, so a quiet but healthy watch would otherwise be reopened every 30s.
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.idleTimeoutMs;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // client-node's ListWatch opens the watch after its list even when stop() came during the list, and keeps
    // nothing to abort it by: such a watch would stay open until the server times it out.
    if (this.opts.isStopped()) {
      const closed = new AbortController();
      closed.abort();
      return closed;
    }
    this.opts.onOpen();
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.opts.timeoutSeconds() };
    const controller = await super.watch(
      path,
      params,
      (phase, obj, watchObj) => {
        this.opts.onEvent(phase);
        const isObject = phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED";
        if (!isObject) return callback(phase, obj, watchObj);
        const transformed = this.opts.transform(obj);
        this.opts.onObject(transformed);
        callback(phase, transformed, watchObj);
      },
      done,
    );
    if (this.opts.isStopped()) controller.abort();
    return controller;
  }
}
