// What the informer caches keep of an object: everything the operator reads, without the API server's
// bookkeeping (managedFields, kubectl's last-applied copy), with the strings that repeat from object to object
// (apiVersion, namespace, condition types, reasons and messages…) shared instead of copied per object.
import type { KubeObject } from "./client.ts";

/** The annotation `kubectl apply` keeps a whole copy of the object in; no controller reads it. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * The object as caches keep it: see {@link withoutServerBookkeeping} and {@link shareRepeatedStrings}. The input's
 * values are unchanged, but its repeated strings may be swapped in place for equal shared copies (the result shares
 * its nested objects with the input).
 */
export function cacheProjection<T extends KubeObject>(obj: T): T {
  return shareRepeatedStrings(withoutServerBookkeeping(obj));
}

/**
 * Drops what no informer of ours reads and every object carries: `metadata.managedFields` (often the largest
 * part of a small object) and the last-applied annotation. Returns the input itself when it has neither.
 */
export function withoutServerBookkeeping<T extends KubeObject>(obj: T): T {
  const metadata = obj.metadata;
  if (!metadata) return obj;
  const annotations = metadata.annotations;
  const lastApplied = annotations?.[LAST_APPLIED] !== undefined;
  if (metadata.managedFields === undefined && !lastApplied) return obj;
  const { managedFields: _dropped, ...rest } = metadata;
  if (lastApplied && annotations) {
    const { [LAST_APPLIED]: _copy, ...others } = annotations;
    if (Object.keys(others).length) rest.annotations = others;
    else delete rest.annotations;
  }
  return { ...obj, metadata: rest };
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
