// One ProviderConnection reconcile: observe, plan, apply, then one status write if anything changed.
import type { ProviderConnection } from "../../crds/index.ts";
import { REASON } from "../constants.ts";
import { errorPolicy } from "../error-policy.ts";
import { applyPlan } from "./apply.ts";
import { connectionFinalizer } from "./finalizer.ts";
import { type Observation, observeConnection } from "./observe.ts";
import { planConnection } from "./plan.ts";
import type { ConnectionDeps } from "./ports.ts";
import { nextStatus, statusChanged, statusForError, statusPatch } from "./status.ts";

export interface Outcome {
  requeueAfterMs?: number;
  /**
   * The name of the connection's Organization when the app rejected its token (401) or role (403) mid-reconcile:
   * the Organization's cached answer is stale and it should be asked again now, not at the next resync.
   */
  recheckOrganization?: string;
}

/**
 * Reconciles the connection `namespace/name`. Level-based: it never asks why it runs. One pass: a new connection
 * gets its finalizer first (that write must succeed before any app write) and is then synced in the same run.
 * A failure becomes Ready=False with the reason {@link errorPolicy} gives; a transient one is thrown again (the
 * queue backs off and retries), a terminal one returns and waits for a change.
 */
export async function reconcileConnection(
  namespace: string,
  name: string,
  deps: ConnectionDeps,
): Promise<Outcome> {
  let connection = await deps.getConnection(namespace, name);
  if (!connection) return {};
  try {
    const { observed, session, credentials } = await finalizedAndObserved(connection, deps);
    connection = observed.connection;
    const plan = planConnection(observed);
    const result = await applyPlan(connection, plan, session, credentials, deps);
    // The status write and the plan's Events (informational) go out together.
    const [written, recorded] = await Promise.allSettled([
      result.addedFinalizer || result.removedFinalizer
        ? undefined
        : writeStatus(connection, nextStatus(connection, plan, result, observed.now), deps),
      result.recording,
    ]);
    if (written.status === "rejected") throw written.reason;
    if (recorded.status === "rejected") throw recorded.reason;
    if (plan.app.kind !== "none") {
      deps.log.info({
        event: `connection.${plan.app.kind}`,
        connection: `${namespace}/${name}`,
        organization: connection.spec.organizationRef.name,
        appConnectionId: result.record?.id ?? (plan.app.kind === "delete" ? plan.app.id : undefined),
        fingerprint: plan.status.credentialFingerprint,
      });
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  } catch (error) {
    const verdict = errorPolicy(error);
    const status = statusForError(connection, verdict.reason, verdict.message, deps.now());
    if (statusChanged(connection, status)) {
      await deps.kube.patchStatus(connection, statusPatch(connection, status));
      await deps.kube.event(connection, {
        type: "Warning",
        reason: verdict.reason,
        message: verdict.message,
      });
    }
    deps.log.warn({
      event: "connection.failed",
      connection: `${namespace}/${name}`,
      reason: verdict.reason,
      terminal: verdict.action === "wait",
      error: verdict.message,
    });
    if (verdict.action === "retry") throw error;
    // The Organization's cached answer is stale when the app rejects its token or role mid-reconcile.
    const rejected = verdict.reason === REASON.InvalidToken || verdict.reason === REASON.InsufficientRole;
    return rejected ? { recheckOrganization: connection.spec.organizationRef.name } : {};
  }
}

/**
 * Adds the finalizer if it is missing, and observes. The two overlap: observing only reads (the Secret, the
 * shared listing, the provider check), so it runs on the object as it will be once the finalizer is on while
 * the write is under way; nothing is applied until the API server has accepted the finalizer (a failed write
 * throws, and the observation is dropped). Provisioning is a write of its own, so a provisioned connection
 * observes only after the finalizer is on.
 */
async function finalizedAndObserved(
  connection: ProviderConnection,
  deps: ConnectionDeps,
): Promise<Observation> {
  if (!connectionFinalizer.missing(connection)) return observeConnection(connection, deps);
  const finalizers = connectionFinalizer.added(connection);
  const patching = deps.kube.patchMetadata(connection, { finalizers });
  if (connection.spec.azure?.provision) return observeConnection(await patching, deps);
  const [patched, observation] = await Promise.allSettled([
    patching,
    observeConnection({ ...connection, metadata: { ...connection.metadata, finalizers } }, deps),
  ]);
  if (patched.status === "rejected") throw patched.reason;
  if (observation.status === "rejected") throw observation.reason;
  // The plan and the status write work on the object the API server returned (its resourceVersion).
  return { ...observation.value, observed: { ...observation.value.observed, connection: patched.value } };
}

/** Writes `status` when it differs from what the object holds. */
async function writeStatus(
  connection: ProviderConnection,
  status: ReturnType<typeof nextStatus>,
  deps: ConnectionDeps,
): Promise<void> {
  if (statusChanged(connection, status))
    await deps.kube.patchStatus(connection, statusPatch(connection, status));
}
