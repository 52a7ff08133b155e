// One ProviderConnection reconcile: observe, plan, apply, then one status write if anything changed.
import { REASON } from "../constants.ts";
import { errorPolicy } from "../error-policy.ts";
import { applyPlan } from "./apply.ts";
import { connectionFinalizer } from "./finalizer.ts";
import { observeConnection } from "./observe.ts";
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
    if (connectionFinalizer.missing(connection)) {
      connection = await deps.kube.patchMetadata(connection, {
        finalizers: connectionFinalizer.added(connection),
      });
    }
    const { observed, session, credentials } = await observeConnection(connection, deps);
    const plan = planConnection(observed);
    const result = await applyPlan(connection, plan, session, credentials, deps);
    if (!result.addedFinalizer && !result.removedFinalizer) {
      const status = nextStatus(connection, plan, result, observed.now);
      if (statusChanged(connection, status))
        await deps.kube.patchStatus(connection, statusPatch(connection, status));
    }
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
