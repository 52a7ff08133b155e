// Key age: past its max age (the connection's spec.maxKeyAge, else its Organization's) a connection says
// KeyRotationDue=True, once with a Warning Event. Ready is not affected: an old key still works.
import { durationToMs, maxKeyAge, type Organization, type ProviderConnection } from "../../crds/index.ts";
import { ANNOTATIONS, CONDITION, REASON } from "../constants.ts";
import type { ConditionIntent } from "./conditions.ts";
import type { PlannedEvent } from "./types.ts";

/** What the key's age adds to a plan. */
export interface KeyAgePlan {
  /** The KeyRotationDue condition, or undefined when no max age applies (an old one is then dropped). */
  condition?: ConditionIntent;
  /** A Warning when the key has just passed its max age. */
  event?: PlannedEvent;
  /** When the key will pass its max age, so the condition turns on time rather than at the next resync. */
  requeueAfterMs?: number;
}

/**
 * Judges the key rotated (or first synced) at `rotatedTime`. Pure. Messages name fixed times only (never "N
 * days ago"), so an unchanged key writes no status.
 */
export function planKeyAge(
  connection: ProviderConnection,
  organization: Organization | undefined,
  rotatedTime: string | undefined,
  now: Date,
): KeyAgePlan {
  const maxAge = maxKeyAge(connection, organization);
  if (maxAge === undefined || rotatedTime === undefined) return {};
  const dueAt = Date.parse(rotatedTime) + durationToMs(maxAge);
  if (Number.isNaN(dueAt)) return {};
  const source = connection.spec.maxKeyAge !== undefined ? "spec.maxKeyAge" : "the Organization's maxKeyAge";
  const due = new Date(dueAt).toISOString();
  if (dueAt > now.getTime()) {
    return {
      condition: {
        type: CONDITION.KeyRotationDue,
        status: "False",
        reason: REASON.KeyWithinMaxAge,
        message: `key rotated at ${rotatedTime}; due for rotation at ${due} (${source} ${maxAge})`,
      },
      requeueAfterMs: dueAt - now.getTime(),
    };
  }
  const how = connection.spec.azure?.provision
    ? `annotate ${ANNOTATIONS.rotateKeyRequestedAt}`
    : "put a new key in its Secret";
  const message = `key rotated at ${rotatedTime} is past ${source} ${maxAge} (due since ${due}): ${how}`;
  const before = connection.status?.conditions?.find((c) => c.type === CONDITION.KeyRotationDue);
  return {
    condition: { type: CONDITION.KeyRotationDue, status: "True", reason: REASON.KeyPastMaxAge, message },
    ...(before?.status === "True"
      ? {}
      : { event: { type: "Warning", reason: REASON.KeyPastMaxAge, message } }),
  };
}
