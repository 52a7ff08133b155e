// kstatus's abnormal-true conditions, Reconciling and Stalled, derived from the other conditions through one
// table that says, for every reason, whether work is under way or waits on a person.
import { type Condition, PENDING_STATUS } from "../../crds/index.ts";
import { CONDITION, REASON, type Reason } from "../constants.ts";
import { applyConditions, type ConditionIntent } from "./conditions.ts";

/**
 * What a reason means for progress: `Done` (a healthy state), `Reconciling` (the operator is working or retrying on
 * its own), `Stalled` (nothing changes until a person fixes the spec, a Secret, the app or the provider).
 * kstatus reads Reconciling=True as InProgress and Stalled=True as Failed; Argo CD's health script agrees.
 */
export type Progress = "Done" | "Reconciling" | "Stalled";

/** Every reason the operator writes, and what it means for progress (README's reason table shows the same). */
export const REASON_PROGRESS: Record<Reason, Progress> = {
  [REASON.Synced]: "Done",
  [REASON.Adopted]: "Done",
  [REASON.Valid]: "Done",
  [REASON.ModelsAvailable]: "Done",
  [REASON.ModelsMissing]: "Done",
  [REASON.JSONModeSupported]: "Done",
  [REASON.Provisioned]: "Done",
  // KeyRotationDue's reasons: a key past its age still works, so the object stays healthy (a Warning says so).
  [REASON.KeyWithinMaxAge]: "Done",
  [REASON.KeyPastMaxAge]: "Done",
  [REASON.Reconciling]: "Reconciling",
  [REASON.Deleting]: "Reconciling",
  // The Organization says why itself (and is Stalled there when a person must act); the connection follows it.
  [REASON.OrganizationNotReady]: "Reconciling",
  [REASON.AppUnreachable]: "Reconciling",
  [REASON.RateLimited]: "Reconciling",
  [REASON.ProviderUnavailable]: "Reconciling",
  [REASON.NotChecked]: "Reconciling",
  [REASON.Provisioning]: "Reconciling",
  // The account says why itself (Stalled there when a person must act); the connection follows it.
  [REASON.AccountNotReady]: "Reconciling",
  [REASON.OrganizationNotFound]: "Stalled",
  [REASON.AccountNotFound]: "Stalled",
  [REASON.SecretNotFound]: "Stalled",
  [REASON.SecretKeyMissing]: "Stalled",
  [REASON.InvalidToken]: "Stalled",
  [REASON.InsufficientRole]: "Stalled",
  [REASON.OrganizationMismatch]: "Stalled",
  [REASON.AppRejected]: "Stalled",
  [REASON.DuplicateProvider]: "Stalled",
  [REASON.ExistsInApp]: "Stalled",
  [REASON.InvalidCredentials]: "Stalled",
  // A rotated key the provider rejected: the app keeps its working key until a person fixes the Secret.
  [REASON.RotationHeld]: "Stalled",
  [REASON.NetworkRestricted]: "Stalled",
  [REASON.NoModelsAvailable]: "Stalled",
  [REASON.JSONModeUnsupported]: "Stalled",
  [REASON.NotOpenAICompatible]: "Stalled",
  [REASON.EgressDenied]: "Stalled",
  [REASON.InvalidSecretValue]: "Stalled",
  [REASON.ProvisionFailed]: "Stalled",
};

/** The progress a reason stands for; a reason outside the table counts as work under way. */
export function progressOf(reason: string): Progress {
  return REASON_PROGRESS[reason as Reason] ?? "Reconciling";
}

const KSTATUS_TYPES = new Set<string>([CONDITION.Reconciling, CONDITION.Stalled]);

/**
 * Reconciling and Stalled for the given conditions: Ready=False stands or waits by its reason; a Ready=True object
 * is Reconciling while another condition is not True for a reason the operator is retrying (a provider outage).
 * The one that does not hold is False with the same reason, so both always say why.
 */
export function progressIntents(conditions: readonly Condition[]): ConditionIntent[] {
  const ready = conditions.find((c) => c.type === CONDITION.Ready);
  if (!ready) {
    return pair("Reconciling", REASON.Reconciling, "waiting for the first reconcile");
  }
  if (ready.status !== "True") {
    const progress = progressOf(ready.reason);
    return pair(progress === "Done" ? "Reconciling" : progress, ready.reason as Reason, ready.message ?? "");
  }
  const retrying = conditions.find(
    (c) =>
      c.type !== CONDITION.Ready &&
      !KSTATUS_TYPES.has(c.type) &&
      c.status !== "True" &&
      progressOf(c.reason) === "Reconciling",
  );
  if (retrying) return pair("Reconciling", retrying.reason as Reason, retrying.message ?? "");
  return pair("Done", ready.reason as Reason, ready.message ?? "");
}

function pair(progress: Progress, reason: Reason, message: string): ConditionIntent[] {
  return [
    { type: CONDITION.Reconciling, status: progress === "Reconciling" ? "True" : "False", reason, message },
    { type: CONDITION.Stalled, status: progress === "Stalled" ? "True" : "False", reason, message },
  ];
}

/** `conditions` with Reconciling and Stalled set from the rest (as applyConditions sets any condition). */
export function withProgress(
  conditions: readonly Condition[],
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  // The CRD's default status (served until the first write) is no observation: its placeholder time goes.
  const observed = conditions.filter((c) => c.lastTransitionTime !== PENDING_TIME);
  return applyConditions(observed, progressIntents(observed), observedGeneration, now);
}

const PENDING_TIME = PENDING_STATUS.conditions[0]?.lastTransitionTime;

/** Waits that are work going as planned: their Events are Normal; every other not-ready reason warns. */
const NORMAL_WAITS = new Set<string>([REASON.Provisioning, REASON.Deleting]);

/** The Event type for a condition's reason turning an object not ready. */
export function eventTypeFor(reason: string): "Normal" | "Warning" {
  return NORMAL_WAITS.has(reason) ? "Normal" : "Warning";
}
