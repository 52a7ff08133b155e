// One metadata-only watch of Secrets (names and resourceVersions, never data), and which owners to reconcile when
// a Secret they reference changes. Values are read on demand by a GET.
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { KubeClient } from "./client.ts";
import type { KubernetesObject } from "./informer.ts";
import { metadataOnly } from "./metadata-only.ts";
import { createNamespacedInformers } from "./namespaced-informers.ts";

/** What the watch keeps of a Secret: its identity and resourceVersion (about 200 bytes). */
export interface SecretStub extends KubernetesObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
}

export interface SecretWatchOptions {
  kc: KubeClient;
  /** Watch these namespaces (one watch each); undefined means all namespaces. */
  namespaces?: readonly string[];
  /** Called with a referenced Secret's namespace and name when it is created, changed or deleted. */
  onChange(namespace: string, name: string): void;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
}

/** One subscriber's references: which owners to tell when a Secret they reference changes. */
export interface SecretReferences {
  /** `ownerKey` (e.g. `ProviderConnection/ns/name`) references the Secret. */
  track(namespace: string, name: string, ownerKey: string): void;
  /** `ownerKey` references no Secret any more. */
  untrack(ownerKey: string): void;
  /** The owners that reference the Secret, to enqueue on a change. */
  referrers(namespace: string, name: string): string[];
  /** Secrets some owner references, as `namespace/name`. */
  watched(): string[];
}

export interface SecretWatch extends SecretReferences {
  /**
   * The Secret's resourceVersion as last seen, "absent" when it does not exist, undefined before the first list.
   * A changed version means "read it again"; an equal one means what was read before still holds.
   */
  version(namespace: string, name: string): string | undefined;
  /** The resourceVersion the watch last saw of a Secret it holds; undefined when absent or not yet listed. */
  seenVersion(namespace: string, name: string): string | undefined;
  /**
   * Another subscriber on the same watch (another controller): its own references and its own `onChange`,
   * with no second list+watch and no second cache. One added after `start` hears the changes that follow.
   */
  subscribe(onChange: (namespace: string, name: string) => void): SecretReferences;
  hasSynced(): boolean;
  /** Starts the list and watch; resolves once the first list is in. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Reduces a Secret (or its PartialObjectMetadata) to a stub: nothing of its data, labels or managed fields. */
export function toSecretStub(obj: KubernetesObject): SecretStub {
  return {
    metadata: {
      name: obj.metadata?.name ?? "",
      namespace: obj.metadata?.namespace ?? "",
      resourceVersion: obj.metadata?.resourceVersion,
    },
  };
}

const ABSENT = "absent";

/**
 * Creates the Secret watch.
 *
 * Guarantees: one list+watch, whatever the number of Secrets and of subscribers, asking the API server for
 * metadata only (`PartialObjectMetadata`), so no Secret value ever reaches the operator through it; the cache
 * keeps a stub per Secret of the namespace(s). onChange fires for a referenced Secret on every create, delete and
 * resourceVersion change (a label edit too: the reconcile it triggers reads the value, finds the same fingerprint
 * and writes nothing). Tracking needs no new request: a Secret referenced after the first list is already in the
 * cache. Each subscriber (`subscribe`) keeps its own references and hears only of the Secrets it references.
 * Assumptions: the caller reads values on demand (a GET during reconcile) and compares its own fingerprint with
 * what it pushed; onChange only says "look again". Owners' Secrets live in the owner's namespace.
 * Caveats: every Secret of the watched namespace(s) costs a stub (~200 bytes) whether referenced or not.
 */
export function createSecretWatch(options: SecretWatchOptions): SecretWatch {
  const informer = createNamespacedInformers<SecretStub>({
    kc: metadataOnly(options.kc),
    resource: { group: "", version: "v1", plural: "secrets" },
    namespaces: options.namespaces,
    transform: toSecretStub,
    name: "secrets (metadata)",
    log: options.log,
    clock: options.clock,
    random: options.random,
  });
  const subscribers: Subscriber[] = [];
  const subscribe = (onChange: (namespace: string, name: string) => void): SecretReferences => {
    const subscriber = createSubscriber(onChange);
    subscribers.push(subscriber);
    return subscriber.api;
  };
  const changed = (s: SecretStub) => {
    const { namespace, name } = s.metadata;
    for (const subscriber of subscribers) {
      if (!subscriber.references(namespace, name)) continue;
      options.log?.debug({ event: "secret.changed", secret: `${namespace}/${name}` });
      subscriber.onChange(namespace, name);
    }
  };
  // Adds during the first list are the cache filling, not changes: reconciles that follow read the values anyway.
  informer.on("add", (s) => informer.hasSynced() && changed(s));
  informer.on("update", changed);
  informer.on("delete", changed);

  const own = subscribe(options.onChange);
  return {
    ...own,
    version(namespace, name) {
      if (!informer.hasSynced()) return undefined;
      return informer.get(namespace, name)?.metadata.resourceVersion ?? ABSENT;
    },
    seenVersion: (namespace, name) => informer.get(namespace, name)?.metadata.resourceVersion,
    subscribe,
    hasSynced: () => informer.hasSynced(),
    start: () => informer.start(),
    stop: () => informer.stop(),
  };
}

interface Subscriber {
  api: SecretReferences;
  /** Whether some owner of this subscriber references the Secret. */
  references(namespace: string, name: string): boolean;
  onChange(namespace: string, name: string): void;
}

/** One subscriber's two maps, Secret → owners and owner → Secrets. */
function createSubscriber(onChange: (namespace: string, name: string) => void): Subscriber {
  const owners = new Map<string, Few>(); // "ns/name" → owner keys
  const byOwner = new Map<string, Few>(); // owner key → "ns/name"
  const id = (namespace: string, name: string) => `${namespace}/${name}`;
  return {
    onChange,
    references: (namespace, name) => owners.has(id(namespace, name)),
    api: {
      track(namespace, name, ownerKey) {
        const key = id(namespace, name);
        addTo(owners, key, ownerKey);
        addTo(byOwner, ownerKey, key);
      },
      untrack(ownerKey) {
        for (const key of members(byOwner.get(ownerKey))) removeFrom(owners, key, ownerKey);
        byOwner.delete(ownerKey);
      },
      referrers: (namespace, name) => members(owners.get(id(namespace, name))),
      watched: () => [...owners.keys()],
    },
  };
}

/**
 * A set of strings that costs one string while it has one member: most Secrets have one referrer and most owners
 * one Secret, and a Set each would cost more than the stub (10,000 connections: two maps of 10,000 entries).
 */
type Few = string | Set<string>;

function addTo(map: Map<string, Few>, key: string, value: string): void {
  const current = map.get(key);
  if (current === undefined) map.set(key, value);
  else if (typeof current !== "string") current.add(value);
  else if (current !== value) map.set(key, new Set([current, value]));
}

function removeFrom(map: Map<string, Few>, key: string, value: string): void {
  const current = map.get(key);
  if (current === undefined) return;
  if (typeof current === "string") {
    if (current === value) map.delete(key);
    return;
  }
  current.delete(value);
  if (current.size === 1) map.set(key, current.values().next().value as string);
  else if (current.size === 0) map.delete(key);
}

function members(few: Few | undefined): string[] {
  return few === undefined ? [] : typeof few === "string" ? [few] : [...few];
}
