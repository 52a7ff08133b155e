// Which watch event enqueues which reconciles (controller-runtime's EnqueueRequestsFromMapFunc, kube-rs's
// .watches()): named mappings from a changed object to the keys to reconcile.
import type { Organization, ProviderConnection } from "../crds/index.ts";
import { accountNameOf, keySecretNameOf } from "./azure/account.ts";
import { CONDITION } from "./constants.ts";
import { ownAnnotations } from "./kube/projection.ts";
import { keyOf, type ObjectKey } from "./object-key.ts";
import { credentialRefs, referencedSecretNames } from "./reconcile/credentials.ts";
import { connectionFinalizer } from "./reconcile/finalizer.ts";
import { rivalsOf } from "./reconcile/one-per-organization.ts";

/**
 * Whether an update of one of our objects asks for its reconcile: a spec change (generation), our annotations
 * (refresh and sync requests, release), finalizers or the deletion mark. A status-only change does not: it is
 * a reconcile's own write (or another replica's), and enqueueing it would skip the backoff of a failing key;
 * nor does our finalizer's addition alone (the reconcile that wrote it goes on in the same pass), nor labels or
 * other tools' annotations (a GitOps tool's tracking, `kubectl annotate`), which no reconcile reads.
 */
export function needsReconcile(
  previous: ProviderConnection | Organization | undefined,
  current: ProviderConnection | Organization,
): boolean {
  if (!previous) return true;
  const a = previous.metadata;
  const b = current.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !sameJson(ownAnnotations(a.annotations), ownAnnotations(b.annotations)) ||
    (!sameJson(a.finalizers, b.finalizers) && !connectionFinalizer.onlyAdded(previous, current))
  );
}

/** A connection's own key. */
export const connectionKey = (c: ProviderConnection): ObjectKey => keyOf("ProviderConnection", c);
/** An Organization's own key. */
export const organizationKey = (o: Organization): ObjectKey => keyOf("Organization", o);
/** The Organization a connection references (a deleting Organization waits for its connections to go). */
export const organizationOfConnection = (c: ProviderConnection): ObjectKey => ({
  kind: "Organization",
  namespace: c.metadata.namespace,
  name: c.spec.organizationRef.name,
});

/**
 * A connection deleted or being deleted: the rivals of its organization-wide provider, one of which takes over.
 */
export function rivalsToWake(c: ProviderConnection, all: readonly ProviderConnection[]): ObjectKey[] {
  return rivalsOf(c, all).map(connectionKey);
}

/** An Organization changed in a way its connections see (spec, deletion, reachability): its connections. */
export function connectionsOfOrganization(o: Organization, all: readonly ProviderConnection[]): ObjectKey[] {
  return all
    .filter(
      (c) => c.metadata.namespace === o.metadata.namespace && c.spec.organizationRef.name === o.metadata.name,
    )
    .map(connectionKey);
}

/** Whether an Organization's status change matters to its connections: Ready flipped or the organization id moved. */
export function organizationReachabilityChanged(
  previous: Organization | undefined,
  current: Organization,
): boolean {
  if (!previous) return true;
  const ready = (o: Organization) => o.status?.conditions?.find((c) => c.type === CONDITION.Ready);
  const a = ready(previous);
  const b = ready(current);
  return (
    a?.status !== b?.status ||
    a?.reason !== b?.reason ||
    previous.status?.organizationId !== current.status?.organizationId
  );
}

/** The Secrets a connection reads (its credentials, or its AzureOpenAIAccount's key Secret), by name. */
export function secretsOfConnection(c: ProviderConnection): string[] {
  const account = accountNameOf(c);
  return referencedSecretNames(
    credentialRefs(c.spec, account === undefined ? undefined : keySecretNameOf(account)),
  );
}

/** The Secrets an Organization reads: its token, and its CA bundle when it names one. */
export function secretsOfOrganization(o: Organization): string[] {
  const names = [o.spec.tokenSecretRef.name];
  if (o.spec.tls?.caSecretRef && !names.includes(o.spec.tls.caSecretRef.name))
    names.push(o.spec.tls.caSecretRef.name);
  return names;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
