// kstatus-style conditions: set one like meta.SetStatusCondition, so lastTransitionTime moves only on a flip.
import type { Condition } from "../../crds/index.ts";
import type { ConditionType, Reason } from "../constants.ts";

export interface ConditionIntent {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  reason: Reason;
  message: string;
}

/** Returns `existing` with each intent applied; a condition whose status is unchanged keeps its transition time. */
export function applyConditions(
  existing: readonly Condition[] | undefined,
  intents: readonly ConditionIntent[],
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c] as const));
  for (const intent of intents) {
    const previous = byType.get(intent.type);
    byType.set(intent.type, {
      type: intent.type,
      status: intent.status,
      reason: intent.reason,
      message: intent.message,
      lastTransitionTime:
        previous && previous.status === intent.status ? previous.lastTransitionTime : now.toISOString(),
      ...(observedGeneration === undefined ? {} : { observedGeneration }),
    });
  }
  // A stable order keeps status byte-identical across reconciles, so nothing is written when nothing changed.
  const order = [
    "Ready",
    "Reconciling",
    "Stalled",
    "AppSynced",
    "CredentialsValid",
    "ModelsAvailable",
    "OpenAICompatible",
    "JSONMode",
    "Provisioned",
    "KeyRotationDue",
  ];
  return [...byType.values()].sort(
    (a, b) => rank(order, a.type) - rank(order, b.type) || a.type.localeCompare(b.type),
  );
}

function rank(order: string[], type: string): number {
  const index = order.indexOf(type);
  return index === -1 ? order.length : index;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
