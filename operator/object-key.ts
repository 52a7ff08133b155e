// The key of a queued reconcile: which of our kinds, and which object. The queue holds keys as strings.

/** The kinds the operator reconciles. */
export type ReconciledKind = "ProviderConnection" | "Organization";

/** One object to reconcile. */
export interface ObjectKey {
  kind: ReconciledKind;
  namespace: string;
  name: string;
}

const KINDS: readonly ReconciledKind[] = ["ProviderConnection", "Organization"];

/** `Kind/namespace/name`: the queue's and the logs' form of a key. */
export function formatKey(key: ObjectKey): string {
  return `${key.kind}/${key.namespace}/${key.name}`;
}

/** The inverse of {@link formatKey}; throws on anything formatKey cannot have produced. */
export function parseKey(text: string): ObjectKey {
  const [kind, namespace, name, ...rest] = text.split("/");
  if (!KINDS.includes(kind as ReconciledKind) || !namespace || !name || rest.length > 0)
    throw new Error(`not an object key: ${JSON.stringify(text)}`);
  return { kind: kind as ReconciledKind, namespace, name };
}

/** The key of a cached object of `kind`. */
export function keyOf(
  kind: ReconciledKind,
  object: { metadata: { namespace: string; name: string } },
): ObjectKey {
  return { kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
