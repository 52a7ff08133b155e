// A resilient informer: list, then watch from the list's resourceVersion into a cache, restarted with backoff when
// it fails, watching with bookmarks so that a quiet watch resumes from a fresh resourceVersion instead of re-listing.
import { type Clock, sleep, systemClock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { KubeApiError, type KubeClient, type KubeObject, WatchIdleError } from "./client.ts";
import { listAll } from "./list.ts";
import { cacheProjection } from "./projection.ts";

/** An object as informers hold it: what the API server sent (after any transform). */
export type KubernetesObject = KubeObject;

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
  kc: KubeClient;
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
 * jittered exponential backoff, resuming from the last resourceVersion, and re-lists when that is too old (410).
 * Watches ask for bookmarks (`allowWatchBookmarks=true`), so a quiet resource keeps a fresh resourceVersion; a
 * watch the server ends (its timeout) is reopened from there without a list. Cached objects carry no
 * `managedFields` and no last-applied annotation, and share their repeated strings (see {@link cacheProjection});
 * then `transform` applies.
 * Assumptions: handlers are quick and only enqueue work. Objects are plain JSON as the API server sent them
 * (dates are strings), after `transform`.
 * Caveats: `status().failingSinceMs` is what a liveness probe should judge.
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
  const project = (obj: KubernetesObject) => transform(cacheProjection(obj));
  const idleTimeoutMs = options.watchIdleTimeoutMs ?? 180_000;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? (() => Math.floor(300 + random() * 300));

  // namespace ("" for cluster-scoped kinds) → name → object
  const cache = new Map<string, Map<string, T>>();
  let resourceVersion = "";
  let started = false;
  let synced = false;
  let failures = 0;
  let failingSinceMs: number | undefined;
  let restarts = 0;
  let bookmarks = 0;
  // Each start() runs one loop; stop() aborts its request or backoff and makes it end.
  let run: { abort: AbortController; done: Promise<void> } | undefined;
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

  const emit = (event: InformerEvent, obj: T, before?: T) => {
    for (const handler of handlers[event]) {
      try {
        handler(obj, before);
      } catch (err) {
        log?.error({ event: "informer.handler_failed", err, object: describe(obj) });
      }
    }
  };

  /** Adds or replaces; an update's predecessor is handed on only for watch events (a re-list has none). */
  const put = (obj: T, fromWatch: boolean) => {
    const ns = obj.metadata?.namespace ?? "";
    const key = obj.metadata?.name ?? "";
    let byName = cache.get(ns);
    if (!byName) {
      byName = new Map();
      cache.set(ns, byName);
    }
    const found = byName.get(key);
    if (!found) {
      byName.set(key, obj);
      return emit("add", obj);
    }
    const version = found.metadata?.resourceVersion;
    if (version !== undefined && version === obj.metadata?.resourceVersion) return;
    byName.set(key, obj);
    emit("update", obj, fromWatch ? found : undefined);
  };

  const remove = (obj: T) => {
    const ns = obj.metadata?.namespace ?? "";
    const byName = cache.get(ns);
    if (!byName?.delete(obj.metadata?.name ?? "")) return;
    if (byName.size === 0) cache.delete(ns);
    emit("delete", obj);
  };

  /** A list's answer: what vanished is deleted (with its last known state), the rest added or updated. */
  const replaceAll = (items: T[]) => {
    const listed = new Set(items.map((o) => `${o.metadata?.namespace ?? ""}\0${o.metadata?.name ?? ""}`));
    for (const [ns, byName] of cache) {
      for (const [key, old] of byName) {
        if (listed.has(`${ns}\0${key}`)) continue;
        byName.delete(key);
        emit("delete", old);
      }
      if (byName.size === 0) cache.delete(ns);
    }
    for (const item of items) put(item, false);
  };

  /** Lists into the cache; false when stopped meanwhile. */
  const relist = async (signal: AbortSignal): Promise<boolean> => {
    const list = await listAll<KubernetesObject, T>(options.kc, path, {
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      signal,
      project,
    });
    if (!started || signal.aborted) return false;
    healthy();
    replaceAll(list.items);
    resourceVersion = list.metadata?.resourceVersion ?? "";
    return true;
  };

  const loop = async (abort: AbortController) => {
    const live = () => started && !abort.signal.aborted;
    // As client-node's ListWatch: a watch that ends without having delivered anything is reopened after a
    // delay doubling from 1s to 30s; one that delivered is reopened at once.
    let reconnectDelayMs = 0;
    let hasConnected = false;
    while (live()) {
      try {
        if (!resourceVersion) {
          // In a function of its own: a list held by this loop's frame would stay in memory, managedFields and
          // all, for as long as the watch that follows is open.
          if (!(await relist(abort.signal)) || !live()) return;
          if (!synced) {
            synced = true;
            log?.debug({ event: "informer.synced" });
            resolveStart?.();
          }
        }
        if (reconnectDelayMs > 0 && hasConnected) await sleep(clock, reconnectDelayMs, abort.signal);
        if (hasConnected)
          reconnectDelayMs = Math.min(reconnectDelayMs > 0 ? reconnectDelayMs * 2 : 1000, 30_000);
        hasConnected = true;
        if (!live()) return;
        await options.kc.watch<KubernetesObject>(
          path,
          {
            resourceVersion,
            labelSelector: options.labelSelector,
            fieldSelector: options.fieldSelector,
            allowWatchBookmarks: true,
            timeoutSeconds: watchTimeoutSeconds(),
          },
          (event) => {
            if (!live()) return;
            healthy();
            switch (event.type) {
              case "ERROR":
                // 410 Gone: the resourceVersion was compacted; the server ends the stream and we re-list.
                if ((event.object as { code?: number }).code === 410) resourceVersion = "";
                return;
              case "ADDED":
              case "MODIFIED":
                put(project(event.object), true);
                break;
              case "DELETED":
                remove(project(event.object));
                break;
              case "BOOKMARK":
                bookmarks++;
                break;
            }
            reconnectDelayMs = 0;
            resourceVersion = event.object.metadata?.resourceVersion ?? "";
          },
          { idleTimeoutMs, signal: abort.signal },
        );
      } catch (err) {
        if (!live()) return;
        if (err instanceof KubeApiError && err.code === 410) {
          resourceVersion = "";
          continue;
        }
        // A watch quiet for longer than bookmarks come: reopened at once from where it was.
        if (err instanceof WatchIdleError) {
          reconnectDelayMs = 0;
          continue;
        }
        failures++;
        failingSinceMs ??= clock.now();
        const delay = Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (failures - 1)));
        log?.warn({ event: "informer.restarting", err, failures, delayMs: delay });
        await sleep(clock, delay, abort.signal);
        if (!live()) return;
        restarts++;
        reconnectDelayMs = 0;
        hasConnected = false;
      }
    }
  };

  return {
    list(namespace) {
      if (namespace !== undefined && namespace !== "") return [...(cache.get(namespace)?.values() ?? [])];
      const all: T[] = [];
      for (const byName of cache.values()) for (const obj of byName.values()) all.push(obj);
      return all;
    },
    get: (namespace, objName) => cache.get(namespace ?? "")?.get(objName),
    on(event, handler) {
      handlers[event].add(handler);
      return () => handlers[event].delete(handler);
    },
    hasSynced: () => synced,
    status: () => ({ started, synced, failingSinceMs, restarts, bookmarks }),
    start() {
      if (started) return Promise.race([whenSynced, stopped.promise]);
      started = true;
      const abort = new AbortController();
      run = { abort, done: loop(abort).catch((err) => log?.error({ event: "informer.failed", err })) };
      // Resolves once synced, or when stopped before that.
      return Promise.race([whenSynced, stopped.promise]);
    },
    async stop() {
      started = false;
      const current = run;
      run = undefined;
      current?.abort.abort();
      await current?.done;
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
