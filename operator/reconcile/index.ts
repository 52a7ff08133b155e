// One ProviderConnection reconcile: observe, plan, apply, then one status write if anything changed.
import { REASON, type Reason } from "../constants.ts";
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
 * A thrown error is transient (the queue backs off and retries); see `describeFailure` for how errors become
 * conditions.
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
    const failure = describeFailure(error);
    const status = statusForError(connection, failure.reason, failure.message, deps.now());
    if (statusChanged(connection, status)) {
      await deps.kube.patchStatus(connection, statusPatch(connection, status));
      await deps.kube.event(connection, {
        type: "Warning",
        reason: failure.reason,
        message: failure.message,
      });
    }
    deps.log.warn({
      event: "connection.failed",
      connection: `${namespace}/${name}`,
      reason: failure.reason,
      terminal: failure.terminal,
      error: failure.message,
    });
    // A terminal failure waits for a change (or the resync); a transient one backs off in the queue.
    if (failure.terminal) {
      const rejected = failure.reason === REASON.InvalidToken || failure.reason === REASON.InsufficientRole;
      return rejected ? { recheckOrganization: connection.spec.organizationRef.name } : {};
    }
    throw error;
  }
}

/** A reconcile failure as a condition: a reason, a message free of secrets, and whether retrying can help. */
export interface Failure {
  reason: Reason;
  message: string;
  terminal: boolean;
}

/** Maps an error from the app client (or anything else) to a condition reason. */
export function describeFailure(error: unknown): Failure {
  const e = error as { kind?: string; status?: number; terminal?: boolean; message?: string };
  const message = typeof e?.message === "string" ? e.message : String(error);
  switch (e?.kind) {
    case "Unauthorized":
      return {
        reason: REASON.InvalidToken,
        message: `the app rejected the token: ${message}`,
        terminal: true,
      };
    case "Forbidden":
      return {
        reason: REASON.InsufficientRole,
        message: `the token's user may not manage connections: ${message}`,
        terminal: true,
      };
    case "Invalid":
      return {
        reason: REASON.AppRejected,
        message: `the app rejected the connection: ${message}`,
        terminal: true,
      };
    case "NotFound":
      return { reason: REASON.AppRejected, message, terminal: e.terminal ?? true };
    case "RateLimited":
    case "Unavailable":
    case "Network":
    case "Timeout":
      return {
        reason: REASON.AppUnreachable,
        message: `the app is unreachable: ${message}`,
        terminal: false,
      };
    default:
      return { reason: REASON.Reconciling, message: `reconcile failed: ${message}`, terminal: false };
  }
}
