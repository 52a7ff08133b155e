// Whether a changed credential waits before it reaches the app: under spec.rotationPolicy Verify a key the
// provider rejects is held while the app's current key works; Immediate pushes first and checks after.
import type { ProviderConnection } from "../../crds/index.ts";
import { systemClock, within } from "../clock.ts";
import { CONDITION, REASON } from "../constants.ts";
import type { ModelCheck } from "../providers/types.ts";
import type { ConditionIntent } from "./conditions.ts";

/** How a changed credential reaches the app. */
export type RotationPolicy = "Verify" | "Immediate";

/** The connection's rotation policy (Verify unless the spec says otherwise). */
export function rotationPolicyOf(connection: ProviderConnection): RotationPolicy {
  return connection.spec.rotationPolicy ?? "Verify";
}

/**
 * Whether `fingerprint` replaces a credential the app already holds. A first sync (no record or no credential
 * pushed yet) is not a rotation: there is no working key to protect.
 */
export function isRotation(connection: ProviderConnection, fingerprint: string): boolean {
  const status = connection.status ?? {};
  return (
    status.appConnectionId !== undefined &&
    status.credentialFingerprint !== undefined &&
    status.credentialFingerprint !== fingerprint
  );
}

/**
 * The CredentialsValid intent of a held rotation, or undefined when the credential goes to the app.
 *
 * Guarantees: holds only a rotation, only under Verify, only while the app's key works (its last check passed, or
 * it is the key an earlier hold kept), and only when the provider rejected the new credential (InvalidCredentials)
 * in `check`, or, with no check now, when this very credential was held before (it waits on a person: a new
 * Secret value, a refresh request, or rotationPolicy Immediate). A provider that cannot answer (rate limit,
 * outage) never holds: rotation does not wait on an outage.
 * Assumptions: `check` was made with the credential whose fingerprint is `fingerprint`.
 */
export function heldRotation(
  connection: ProviderConnection,
  fingerprint: string,
  check: ModelCheck | undefined,
): ConditionIntent | undefined {
  if (rotationPolicyOf(connection) !== "Verify" || !isRotation(connection, fingerprint)) return undefined;
  const status = connection.status ?? {};
  const credentialsValid = status.conditions?.find((c) => c.type === CONDITION.CredentialsValid);
  const appKeyWorks = credentialsValid?.status === "True" || credentialsValid?.reason === REASON.RotationHeld;
  if (!appKeyWorks) return undefined;
  const rejected = check?.outcome === "InvalidCredentials";
  const stillHeld = check === undefined && status.heldCredentialFingerprint === fingerprint;
  if (!rejected && !stillHeld) return undefined;
  // A hold that goes on keeps its message (the provider's words from the check), so status does not churn.
  const kept =
    stillHeld && credentialsValid?.reason === REASON.RotationHeld ? credentialsValid.message : undefined;
  const why = rejected ? `the provider rejected it (${check.message})` : "the provider rejected it";
  return {
    type: CONDITION.CredentialsValid,
    status: "False",
    reason: REASON.RotationHeld,
    message:
      kept ??
      `the new credential ${fingerprint} was not pushed to the app: ${why}; the app keeps the working credential ${status.credentialFingerprint}. Fix the Secret, or set spec.rotationPolicy: Immediate to push it anyway`,
  };
}

/** How long a rotation waits for the provider's verdict before it is pushed unverified. */
export const ROTATION_CHECK_WAIT_MS = 2_000;

/**
 * The check's result, or an Unavailable outcome once `waitMs` passed: a slow provider is an outage, and a rotation
 * never waits on one. The check itself goes on (its result is dropped); the next check follows the backoff.
 */
export async function withinRotationWait(
  check: Promise<ModelCheck>,
  waitMs: number = ROTATION_CHECK_WAIT_MS,
): Promise<ModelCheck> {
  return within(systemClock, check, waitMs, () => ({
    outcome: "Unavailable",
    message: `the provider did not answer within ${waitMs / 1000}s; the new credential was pushed unverified`,
    models: [],
  }));
}
