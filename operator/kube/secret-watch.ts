// Watches exactly the Secrets that connections and organizations reference, one by name, keeping a fingerprint of
// each (never a value), and says which owners to reconcile when one changes. Values are read on demand by a GET.
import { createHash } from "node:crypto";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { createInformer, type Informer } from "./informer.ts";

/** What the watch keeps of a Secret: its identity and a fingerprint of its data. */
export interface SecretStub extends KubernetesObject {
  metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string };
  /** `sha256:` and the hex digest of the Secret's data (all keys, sorted), or of nothing. */
  fingerprint: string;
}

export interface SecretWatchOptions {
  kc: KubeConfig;
  /** Called with a Secret's namespace and name when its fingerprint changes (created, changed, deleted). */
  onChange(namespace: string, name: string): void;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
}

export interface SecretWatch {
  /** `ownerKey` (e.g. `ProviderConnection/ns/name`) references the Secret: watch it while anyone does. */
  track(namespace: string, name: string, ownerKey: string): void;
  /** `ownerKey` references no Secret any more; watches nobody needs are stopped (after the current tick). */
  untrack(ownerKey: string): void;
  /** The owners that reference the Secret, to enqueue on a change. */
  referrers(namespace: string, name: string): string[];
  /** The last fingerprint seen, "absent" for a Secret that does not exist, undefined if not (yet) known. */
  fingerprint(namespace: string, name: string): string | undefined;
  /** True when every tracked Secret's watch has synced. */
  hasSynced(): boolean;
  /** The Secrets watched now, as `namespace/name`. */
  watched(): string[];
  stop(): Promise<void>;
}

/** The fingerprint of a Secret's data: sha256 over its keys (sorted) and base64 values. */
export function secretDataFingerprint(data: Record<string, string> | undefined): string {
  const hash = createHash("sha256");
  for (const key of Object.keys(data ?? {}).sort()) {
    hash
      .update(key)
      .update("\0")
      .update((data as Record<string, string>)[key] ?? "")
      .update("\0");
  }
  return `sha256:${hash.digest("hex")}`;
}

/** Reduces a Secret to a stub: the data is hashed and dropped here, before anything caches the object. */
export function toSecretStub(obj: KubernetesObject): SecretStub {
  const secret = obj as KubernetesObject & { data?: Record<string, string> };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: secret.metadata?.name ?? "",
      namespace: secret.metadata?.namespace ?? "",
      resourceVersion: secret.metadata?.resourceVersion,
      uid: secret.metadata?.uid,
    },
    fingerprint: secretDataFingerprint(secret.data),
  };
}

const ABSENT = "absent";

/**
 * Creates a watch over referenced Secrets.
 *
 * Guarantees: only referenced Secrets are watched (one list+watch per Secret, `fieldSelector=metadata.name=<name>`
 * in its namespace); the cache holds {@link SecretStub}s, never data. onChange fires when a watched Secret is
 * created, deleted, or its data changes (not for label or annotation edits), and once when a watch first syncs, so
 * a change between a reconcile's read and the start of the watch is never lost. A Secret shared by several owners
 * is watched once. untrack followed by track in the same tick keeps the watch running (no re-list).
 * Assumptions: the caller reads Secret values on demand (a GET during reconcile) and compares its own per-key
 * fingerprint with what it pushed; onChange only says "look again". Owners' Secrets live in the owner's namespace.
 * Caveats: one watch connection per referenced Secret; at thousands of Secrets a per-namespace watch would use
 * fewer connections, at the price of streaming every Secret of the namespace through the operator.
 */
export function createSecretWatch(options: SecretWatchOptions): SecretWatch {
  const owners = new Map<string, Set<string>>(); // "ns/name" → owner keys
  const byOwner = new Map<string, Set<string>>(); // owner key → "ns/name"
  const watches = new Map<string, Informer<SecretStub>>();
  const fingerprints = new Map<string, string>();
  const log = options.log;
  let stopped = false;

  const id = (namespace: string, name: string) => `${namespace}/${name}`;

  const changed = (namespace: string, name: string, fingerprint: string) => {
    const key = id(namespace, name);
    const before = fingerprints.get(key);
    fingerprints.set(key, fingerprint);
    if (before !== undefined && before !== fingerprint && watches.has(key)) {
      log?.info({ event: "secret.changed", secret: key, deleted: fingerprint === ABSENT });
      options.onChange(namespace, name);
    }
  };

  const startWatch = (namespace: string, name: string) => {
    const key = id(namespace, name);
    const informer = createInformer<SecretStub>({
      kc: options.kc,
      resource: { group: "", version: "v1", plural: "secrets" },
      namespace,
      fieldSelector: `metadata.name=${name}`,
      transform: toSecretStub,
      name: `secret ${key}`,
      log: options.log,
      clock: options.clock,
      random: options.random,
    });
    informer.on("add", (s) => informer.hasSynced() && changed(namespace, name, s.fingerprint));
    informer.on("update", (s) => changed(namespace, name, s.fingerprint));
    informer.on("delete", () => changed(namespace, name, ABSENT));
    watches.set(key, informer);
    void informer.start().then(() => {
      if (watches.get(key) !== informer || !informer.hasSynced()) return;
      fingerprints.set(key, informer.get(namespace, name)?.fingerprint ?? ABSENT);
      options.onChange(namespace, name);
    });
  };

  const stopIfUnreferenced = (key: string) => {
    queueMicrotask(() => {
      if ((owners.get(key)?.size ?? 0) > 0) return;
      owners.delete(key);
      const informer = watches.get(key);
      watches.delete(key);
      fingerprints.delete(key);
      void informer?.stop();
    });
  };

  return {
    track(namespace, name, ownerKey) {
      if (stopped) return;
      const key = id(namespace, name);
      const set = owners.get(key) ?? new Set<string>();
      owners.set(key, set.add(ownerKey));
      const mine = byOwner.get(ownerKey) ?? new Set<string>();
      byOwner.set(ownerKey, mine.add(key));
      if (!watches.has(key)) startWatch(namespace, name);
    },
    untrack(ownerKey) {
      for (const key of byOwner.get(ownerKey) ?? []) {
        owners.get(key)?.delete(ownerKey);
        stopIfUnreferenced(key);
      }
      byOwner.delete(ownerKey);
    },
    referrers: (namespace, name) => [...(owners.get(id(namespace, name)) ?? [])],
    fingerprint: (namespace, name) => fingerprints.get(id(namespace, name)),
    hasSynced: () => [...watches.values()].every((w) => w.hasSynced()),
    watched: () => [...watches.keys()],
    async stop() {
      stopped = true;
      const all = [...watches.values()];
      watches.clear();
      await Promise.all(all.map((w) => w.stop()));
    },
  };
}
