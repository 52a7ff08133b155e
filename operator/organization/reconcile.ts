// One Organization reconcile: ask the app who the token is, and say in status whether connections can sync.
import { isDeepStrictEqual } from "node:util";
import type { Organization, OrganizationStatus, ProviderConnection } from "../../crds/index.ts";
import { ANNOTATIONS, CONDITION, ORGANIZATION_FINALIZER, REASON } from "../constants.ts";
import { errorPolicy } from "../error-policy.ts";
import { applyConditions } from "../reconcile/conditions.ts";
import { eventTypeFor, withProgress } from "../reconcile/progress.ts";
import { appReport, keepUnchanged, reportDue } from "./app-report.ts";
import type { OrganizationSessions } from "./sessions.ts";
import { organizationTeardown } from "./teardown.ts";

export interface OrganizationDeps {
  now(): Date;
  getOrganization(namespace: string, name: string): Promise<Organization | undefined>;
  sessions: OrganizationSessions;
  patchStatus(organization: Organization, status: Record<string, unknown>): Promise<unknown>;
  /** Patches metadata and resolves with the object the API server returned. */
  patchMetadata(organization: Organization, metadata: Record<string, unknown>): Promise<Organization>;
  /** The Organizations of a namespace (from the cache). */
  organizations(namespace: string): Organization[];
  /** Adds or removes TOKEN_FINALIZER on a Secret of the namespace. */
  setTokenFinalizer(namespace: string, secret: string, present: boolean): Promise<void>;
  event(
    organization: Organization,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void>;
  /** The connections in a namespace (from the cache): the app report and the teardown read them. */
  connections(namespace: string): readonly ProviderConnection[];
  /**
   * Whether the connections' cache has listed: before that, every record would look unmanaged, so the report
   * waits (an operator's start reconciles Organizations while the connections are still being listed).
   */
  connectionsSynced(): boolean;
  /** How often the app's records are listed for the report (the resync interval). */
  reportIntervalMs: number;
  /** When this process last listed each Organization's app ("namespace/name"), kept across reconciles. */
  listedAt: Map<string, Date>;
}

/** How soon to look again when the connections' cache has not listed yet. */
const CACHE_WAIT_MS = 1000;

/** What the runtime should do next: list the app again when the report is due. */
export interface OrganizationOutcome {
  requeueAfterMs?: number;
}

/**
 * Reconciles the Organization `namespace/name`: a fresh whoami, then status (organization id, Ready with the
 * reason of a bad token or role) and, once per report interval or on a sync request, the app report
 * (status.app). Status is written only when it changes. Failures follow {@link errorPolicy}: transient ones are
 * thrown (the queue retries), terminal ones wait for a change.
 */
export async function reconcileOrganization(
  namespace: string,
  name: string,
  deps: OrganizationDeps,
): Promise<OrganizationOutcome> {
  let organization = await deps.getOrganization(namespace, name);
  if (!organization) {
    deps.sessions.forget(namespace, name);
    deps.listedAt.delete(`${namespace}/${name}`);
    return {};
  }
  const finalizers = organization.metadata.finalizers ?? [];
  if (organization.metadata.deletionTimestamp) {
    if (finalizers.includes(ORGANIZATION_FINALIZER)) await tearDown(organization, deps);
    return {};
  }
  if (!finalizers.includes(ORGANIZATION_FINALIZER)) {
    // First, and in the same pass (the echo of our own write enqueues nothing): the finalizer must be on before
    // the token Secret is protected and connections rely on the Organization's cleanup.
    organization = await deps.patchMetadata(organization, {
      finalizers: [...finalizers, ORGANIZATION_FINALIZER],
    });
  }
  await deps.setTokenFinalizer(namespace, organization.spec.tokenSecretRef.name, true);
  let outcome: OrganizationOutcome = {};
  let status: OrganizationStatus;
  const current = organization.status ?? {};
  const generation = organization.metadata.generation;
  try {
    // The session's probe lists the app too: a report right behind it in this pass needs no second listing.
    const passStarted = deps.now().getTime();
    const session = await deps.sessions.session(organization, true);
    const syncRequest = organization.metadata.annotations?.[ANNOTATIONS.syncRequestedAt];
    const key = `${namespace}/${name}`;
    const due = reportDue(
      current,
      generation,
      syncRequest,
      deps.listedAt.get(key),
      deps.reportIntervalMs,
      deps.now(),
    );
    let report: Pick<OrganizationStatus, "app" | "syncRequestedAt"> = {};
    if (session.kind === "Ready" && due.due && !deps.connectionsSynced()) {
      outcome = { requeueAfterMs: CACHE_WAIT_MS };
    } else if (session.kind === "Ready" && due.due) {
      const now = deps.now();
      // Listed afresh: a report (at most once per interval, or on a sync request) must see the app as it is now;
      // the shared listing it refreshes serves the organization's connections too.
      const records = await session.app.list({ fresh: true, freshSince: passStarted });
      const app = appReport(records, deps.connections(namespace), namespace, name, now);
      deps.listedAt.set(key, now);
      report = {
        app: keepUnchanged(current.app, app),
        ...(syncRequest === undefined ? {} : { syncRequestedAt: syncRequest }),
      };
      outcome = { requeueAfterMs: deps.reportIntervalMs };
    } else if (!due.due) {
      outcome = { requeueAfterMs: due.inMs };
    }
    status =
      session.kind === "Ready"
        ? {
            ...current,
            observedGeneration: generation,
            organizationId: session.organizationId,
            ...(session.tokenKind ? { tokenKind: session.tokenKind } : {}),
            ...report,
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
    const verdict = errorPolicy(error);
    status = {
      ...current,
      observedGeneration: generation,
      conditions: applyConditions(
        current.conditions,
        [{ type: CONDITION.Ready, status: "False", reason: verdict.reason, message: verdict.message }],
        generation,
        deps.now(),
      ),
    };
    await writeIfChanged(organization, status, deps);
    // A terminal failure waits for a change of the Organization or its Secrets (or the resync).
    if (verdict.action === "retry") throw error;
    return {};
  }
  await writeIfChanged(organization, status, deps);
  return outcome;
}

/**
 * A deleting Organization: waits (saying for which connections) until none references it, then releases its token
 * Secret unless another Organization still needs it, and drops its finalizer.
 */
async function tearDown(organization: Organization, deps: OrganizationDeps): Promise<void> {
  const { namespace, name } = organization.metadata;
  const references = deps
    .connections(namespace)
    .map((c) => ({ name: c.metadata.name, organization: c.spec.organizationRef.name }));
  const step = organizationTeardown(organization, references, deps.organizations(namespace));
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
