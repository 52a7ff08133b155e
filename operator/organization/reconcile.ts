// One Organization reconcile: ask the app who the token is, and say in status whether connections can sync.
import { isDeepStrictEqual } from "node:util";
import type { Organization, OrganizationStatus } from "../../crds/index.ts";
import { CONDITION, ORGANIZATION_FINALIZER, REASON } from "../constants.ts";
import { applyConditions } from "../reconcile/conditions.ts";
import { describeFailure } from "../reconcile/index.ts";
import { eventTypeFor, withProgress } from "../reconcile/progress.ts";
import type { OrganizationSessions } from "./sessions.ts";
import { type ConnectionRef, organizationTeardown } from "./teardown.ts";

export interface OrganizationDeps {
  now(): Date;
  getOrganization(namespace: string, name: string): Promise<Organization | undefined>;
  sessions: OrganizationSessions;
  patchStatus(organization: Organization, status: Record<string, unknown>): Promise<void>;
  patchMetadata(organization: Organization, metadata: Record<string, unknown>): Promise<void>;
  /** The connections of a namespace (from the cache), with the Organization each references. */
  connections(namespace: string): ConnectionRef[];
  /** The Organizations of a namespace (from the cache). */
  organizations(namespace: string): Organization[];
  /** Adds or removes TOKEN_FINALIZER on a Secret of the namespace. */
  setTokenFinalizer(namespace: string, secret: string, present: boolean): Promise<void>;
  event(
    organization: Organization,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void>;
}

/**
 * Reconciles the Organization `namespace/name`: a fresh whoami, then status (organization id, Ready with the
 * reason of a bad token or role). Status is written only when it changes. Transient app failures are thrown.
 */
export async function reconcileOrganization(
  namespace: string,
  name: string,
  deps: OrganizationDeps,
): Promise<void> {
  const organization = await deps.getOrganization(namespace, name);
  if (!organization) {
    deps.sessions.forget(namespace, name);
    return;
  }
  const finalizers = organization.metadata.finalizers ?? [];
  if (organization.metadata.deletionTimestamp) {
    if (finalizers.includes(ORGANIZATION_FINALIZER)) await tearDown(organization, deps);
    return;
  }
  if (!finalizers.includes(ORGANIZATION_FINALIZER)) {
    // The patch triggers the next reconcile, which does the rest.
    await deps.patchMetadata(organization, { finalizers: [...finalizers, ORGANIZATION_FINALIZER] });
    return;
  }
  await deps.setTokenFinalizer(namespace, organization.spec.tokenSecretRef.name, true);
  let status: OrganizationStatus;
  const current = organization.status ?? {};
  const generation = organization.metadata.generation;
  try {
    const session = await deps.sessions.session(organization, true);
    status =
      session.kind === "Ready"
        ? {
            ...current,
            observedGeneration: generation,
            organizationId: session.organizationId,
            ...(session.tokenKind ? { tokenKind: session.tokenKind } : {}),
            conditions: applyConditions(
              current.conditions,
              [
                {
                  type: CONDITION.Ready,
                  status: "True",
                  reason: REASON.Synced,
                  message: `the token reaches organization ${session.organizationId}`,
                },
              ],
              generation,
              deps.now(),
            ),
          }
        : {
            ...current,
            observedGeneration: generation,
            conditions: applyConditions(
              current.conditions,
              [{ type: CONDITION.Ready, status: "False", reason: session.reason, message: session.message }],
              generation,
              deps.now(),
            ),
          };
  } catch (error) {
    const failure = describeFailure(error);
    status = {
      ...current,
      observedGeneration: generation,
      conditions: applyConditions(
        current.conditions,
        [{ type: CONDITION.Ready, status: "False", reason: failure.reason, message: failure.message }],
        generation,
        deps.now(),
      ),
    };
    await writeIfChanged(organization, status, deps);
    throw error;
  }
  await writeIfChanged(organization, status, deps);
}

/**
 * A deleting Organization: waits (saying for which connections) until none references it, then releases its token
 * Secret unless another Organization still needs it, and drops its finalizer.
 */
async function tearDown(organization: Organization, deps: OrganizationDeps): Promise<void> {
  const { namespace, name } = organization.metadata;
  const step = organizationTeardown(organization, deps.connections(namespace), deps.organizations(namespace));
  if (step.kind === "Wait") {
    const status: OrganizationStatus = {
      ...(organization.status ?? {}),
      observedGeneration: organization.metadata.generation,
      conditions: applyConditions(
        organization.status?.conditions,
        [{ type: CONDITION.Ready, status: "False", reason: REASON.Deleting, message: step.message }],
        organization.metadata.generation,
        deps.now(),
      ),
    };
    await writeIfChanged(organization, status, deps);
    return;
  }
  if (step.releaseToken)
    await deps.setTokenFinalizer(namespace, organization.spec.tokenSecretRef.name, false);
  await deps.patchMetadata(organization, {
    finalizers: (organization.metadata.finalizers ?? []).filter((f) => f !== ORGANIZATION_FINALIZER),
  });
  deps.sessions.forget(namespace, name);
}

async function writeIfChanged(
  organization: Organization,
  status: OrganizationStatus,
  deps: OrganizationDeps,
): Promise<void> {
  status.conditions = withProgress(status.conditions ?? [], organization.metadata.generation, deps.now());
  if (isDeepStrictEqual(organization.status ?? {}, status)) return;
  await deps.patchStatus(organization, status as Record<string, unknown>);
  const before = organization.status?.conditions?.find((c) => c.type === CONDITION.Ready);
  const after = status.conditions?.find((c) => c.type === CONDITION.Ready);
  if (after && (before?.status !== after.status || before?.reason !== after.reason)) {
    await deps.event(organization, {
      type: after.status === "True" ? "Normal" : eventTypeFor(after.reason),
      reason: after.reason,
      message: after.message ?? "",
    });
  }
}
