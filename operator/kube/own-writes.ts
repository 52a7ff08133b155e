// What our own writes returned, kept until the informer cache has caught up: reconciles read the cache at no
// cost yet never see a status older than their own last write, and the echoes of our writes enqueue nothing.
import { cacheProjection } from "./projection.ts";

/** What the tracker reads of an object: its resourceVersion. */
interface Versioned {
  metadata: { resourceVersion?: string };
}

/** The objects our writes returned, per object key, until the cache has seen them. */
export interface OwnWrites<T extends Versioned> {
  /** Records what a write of ours returned. */
  wrote(key: string, object: T): void;
  /** The newer of `cached` and our last write's answer (the cache wins once it has caught up). */
  latest(key: string, cached: T | undefined): T | undefined;
  /**
   * Whether a watch event carries one of our own writes (so it needs no reconcile); also the moment the cache
   * catches up, after which the entry is dropped.
   */
  isEcho(key: string, object: T): boolean;
  /** Forgets a deleted object. */
  forget(key: string): void;
}

/**
 * Creates the tracker.
 *
 * Guarantees: `latest` never returns an object older than our last write's answer while the cache lags behind it;
 * entries go once the cache holds that version (or a newer one), so memory follows the writes in flight only.
 * With `cached` (the informer's object for a key) an answer the cache already holds is not kept at all: the watch
 * event of a write often arrives before the write's own answer (one HTTP/2 connection carries both), and an
 * entry made after its echo would otherwise stay until the object's next reconcile. Kept answers are projected
 * as cached objects are (no managedFields).
 * Assumptions: resourceVersions of one object are etcd revisions, increasing integers: the API server documents
 * them as opaque, but every implementation in use (etcd3 storage) makes them so; anything else is treated as
 * "cache is newer", which is what reading the cache without this tracker would do.
 */
export function createOwnWrites<T extends Versioned>(cached?: (key: string) => T | undefined): OwnWrites<T> {
  const written = new Map<string, { latest: T; versions: Set<string> }>();
  const version = (o: Versioned | undefined) => o?.metadata?.resourceVersion ?? "";
  return {
    wrote(key, answer) {
      const entry = written.get(key);
      if (entry && newer(version(entry.latest), version(answer))) return;
      const inCache = cached?.(key);
      if (inCache && !newer(version(answer), version(inCache))) {
        // The echo came first: the cache already holds this write (or a newer version).
        written.delete(key);
        return;
      }
      const object = cacheProjection(answer as never) as T;
      const versions = entry?.versions ?? new Set<string>();
      versions.add(version(object));
      written.set(key, { latest: object, versions });
    },
    latest(key, cached) {
      const entry = written.get(key);
      if (!entry) return cached;
      if (cached && !newer(version(entry.latest), version(cached))) {
        written.delete(key);
        return cached;
      }
      return entry.latest;
    },
    isEcho(key, object) {
      const entry = written.get(key);
      if (!entry) return false;
      const echo = entry.versions.delete(version(object));
      if (!newer(version(entry.latest), version(object))) written.delete(key);
      return echo;
    },
    forget(key) {
      written.delete(key);
    },
  };
}

/** Whether resourceVersion `a` is newer than `b` (both etcd revisions); false when either is not a number. */
function newer(a: string, b: string): boolean {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}
