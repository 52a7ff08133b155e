// Builds the next status from a plan and its result (or from a failure), and says whether it differs from what
// the object holds; the reconcile writes it, as one merge patch, only then.
import { isDeepStrictEqual } from "node:util";
import { type ProviderConnection, type ProviderConnectionStatus, scopeOf } from "../../crds/index.ts";
import { CONDITION, type Reason } from "../constants.ts";
import type { ApplyResult } from "./apply.ts";
import { applyConditions, type ConditionIntent } from "./conditions.ts";
import { withProgress } from "./progress.ts";
import type { ConnectionPlan } from "./types.ts";

/** The status after applying `plan`. Pure. */
export function nextStatus(
  connection: ProviderConnection,
  plan: ConnectionPlan,
  result: ApplyResult,
  now: Date,
): ProviderConnectionStatus {
  const next = observedStatus(connection, plan.status, plan.conditions, now, plan.dropConditions);
  if (result.record) {
    next.appConnectionId = result.record.id;
    next.appUpdatedTime = result.record.updated_at ?? undefined;
  }
  if (result.wroteApp) next.lastSyncTime = now.toISOString();
  if (plan.app.kind === "delete") next.appConnectionId = undefined;
  return withoutUndefined(next);
}

/** The status for a reconcile that failed: only conditions change; what was pushed before stays. */
export function statusForError(
  connection: ProviderConnection,
  reason: Reason,
  message: string,
  now: Date,
): ProviderConnectionStatus {
  const intents: ConditionIntent[] = [
    { type: CONDITION.Ready, status: "False", reason, message },
    { type: CONDITION.AppSynced, status: "False", reason, message },
  ];
  return withoutUndefined(observedStatus(connection, {}, intents, now));
}

/** The current status with `fields` set, stamped with this generation, and the conditions moved by `intents`. */
function observedStatus(
  connection: ProviderConnection,
  fields: Partial<ProviderConnectionStatus>,
  intents: ConditionIntent[],
  now: Date,
  dropConditions: readonly string[] = [],
): ProviderConnectionStatus {
  const current = connection.status ?? {};
  const generation = connection.metadata.generation;
  return {
    ...current,
    ...fields,
    observedGeneration: generation,
    scope: scopeOf(connection.spec.provider),
    conditions: withProgress(
      applyConditions(current.conditions, intents, generation, now).filter(
        (condition) => !dropConditions.includes(condition.type),
      ),
      generation,
      now,
    ),
  };
}

/** Whether `next` differs from what the object already says; unchanged status is never written. */
export function statusChanged(connection: ProviderConnection, next: ProviderConnectionStatus): boolean {
  return !isDeepStrictEqual(withoutUndefined(connection.status ?? {}), next);
}

/** A merge patch that turns the current status into `next` (removed fields become null). */
export function statusPatch(
  connection: ProviderConnection,
  next: ProviderConnectionStatus,
): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(connection.status ?? {})) {
    if (!(key in next)) patch[key] = null;
  }
  return patch;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
