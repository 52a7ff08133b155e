// What the informer caches keep of an object: the metadata the operator reads and the rest of the object, without
// what other tools put in metadata (labels, their annotations, managedFields, kubectl's last-applied copy), with
// the strings that repeat from object to object (apiVersion, namespace, condition types, reasons and messages…)
// shared instead of copied per object.
import { API_ANNOTATION_PREFIX } from "../../crds/annotations.ts";
import type { KubeObject } from "./client.ts";

/**
 * The object as caches keep it: see {@link readMetadataOnly} and {@link shareRepeatedStrings}. The input's values
 * are unchanged, but its repeated strings may be swapped in place for equal shared copies (the result shares its
 * nested objects with the input).
 */
export function cacheProjection<T extends KubeObject>(obj: T): T {
  return shareRepeatedStrings(readMetadataOnly(obj));
}

/** The metadata fields some reconcile reads; annotations apart (only ours are kept). */
const READ_METADATA = [
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "finalizers",
] as const;

/**
 * Keeps of `metadata` only what the operator reads: {@link READ_METADATA} and the annotations of our API
 * (`modelkeys.dev/…`). Labels, other tools' annotations (kubectl's last-applied copy, GitOps tracking),
 * ownerReferences and managedFields are dropped: nothing of ours reads them, and they are the only parts of our
 * objects that the schema does not bound (up to 256 KiB of annotations, and labels up to etcd's object size), so
 * a cached object costs what its spec and status cost whatever other tools (or a hostile user) put beside them.
 * The rest of the object is the input's own (not copied).
 */
export function readMetadataOnly<T extends KubeObject>(obj: T): T {
  const metadata = obj.metadata as Record<string, unknown> | undefined;
  if (!metadata) return obj;
  const kept: Record<string, unknown> = {};
  for (const field of READ_METADATA) if (metadata[field] !== undefined) kept[field] = metadata[field];
  const annotations = ownAnnotations(metadata.annotations as Record<string, string> | undefined);
  if (annotations) kept.annotations = annotations;
  return { ...obj, metadata: kept };
}

/** The annotations of our API (`modelkeys.dev/…`) among `annotations`, or undefined when there are none. */
export function ownAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (!annotations) return undefined;
  let own: Record<string, string> | undefined;
  for (const key in annotations) {
    if (!key.startsWith(API_ANNOTATION_PREFIX)) continue;
    own ??= {};
    own[key] = annotations[key] as string;
  }
  return own;
}

/** Fields whose values repeat across objects (a closed vocabulary, or one per namespace or organization). */
const REPEATED = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "type",
  "status",
  "reason",
  "message",
  "provider",
  "scope",
  "finalizers",
]);
/** Strings longer than this are not shared (a value that long is rarely repeated). */
const MAX_LENGTH = 256;
/** At most this many distinct strings are remembered; past it, new ones are kept as they are. */
const MAX_ENTRIES = 20_000;
const shared = new Map<string, string>();

function share(value: string): string {
  if (value.length > MAX_LENGTH) return value;
  const known = shared.get(value);
  if (known !== undefined) return known;
  if (shared.size < MAX_ENTRIES) shared.set(value, value);
  return value;
}

/**
 * Replaces, in place, the string values of {@link REPEATED} fields (at any depth, and the items of such arrays)
 * by one shared copy each: JSON.parse gives every object its own copies, and at 10,000 connections the same
 * condition messages and namespace names cost megabytes. Returns `obj`.
 */
export function shareRepeatedStrings<T>(obj: T): T {
  walk(obj, false);
  return obj;
}

function walk(value: unknown, repeated: boolean): unknown {
  if (typeof value === "string") return repeated ? share(value) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = walk(value[i], repeated);
    return value;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = walk(record[key], REPEATED.has(key));
  }
  return value;
}
