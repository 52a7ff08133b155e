// When a connection's models are checked again: pure arithmetic over status, annotations and the clock.
import { createHash } from "node:crypto";
import { durationToMs, MIN_REFRESH_INTERVAL_MS, type ProviderConnection } from "../../crds/index.ts";
import { ANNOTATIONS } from "../constants.ts";

/** What the operator remembers, in memory, of failed checks (reset on success or restart). */
export interface CheckFailures {
  count: number;
  lastAttempt: Date;
  retryAfterMs?: number;
}

/** How long failed checks wait: `baseMs` doubling per failure up to `maxMs`. */
export interface CheckBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The default backoff of failed checks (the base is `--model-check-backoff`). */
export const CHECK_BACKOFF: CheckBackoff = { baseMs: 5_000, maxMs: 30 * 60_000 };

/**
 * The refresh interval stretched by a per-object factor in [0.9, 1.1): deterministic (from the uid), so the
 * plan stays pure, and different per object, so a fleet does not check all at once.
 */
export function jitteredRefreshMs(connection: ProviderConnection): number {
  // The floor also holds for objects stored before the API server enforced it.
  const base = Math.max(durationToMs(connection.spec.refreshInterval ?? "1h"), MIN_REFRESH_INTERVAL_MS);
  const seed = createHash("sha256")
    .update(connection.metadata.uid ?? connection.metadata.name)
    .digest()
    .readUInt32BE(0);
  return Math.round(base * (0.9 + (seed / 0x1_0000_0000) * 0.2));
}

/** The wait after `failures.count` failed checks (at least what the provider asked for with Retry-After). */
export function backoffMs(failures: CheckFailures, backoff: CheckBackoff = CHECK_BACKOFF): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, failures.count - 1));
  return Math.max(exponential, failures.retryAfterMs ?? 0);
}

export type CheckDue = { due: true; why: string } | { due: false; nextInMs: number };

/**
 * Whether the models must be checked now. Due at creation, on a new credential (fingerprint), a spec
 * generation not yet checked (`status.modelsCheckedGeneration`, not `observedGeneration`: a reconcile blocked
 * by its Organization or Secret observes a generation without checking it), an on-demand annotation, a rotation
 * pushed without a check (`credentialRotatedTime` after `modelsCheckedTime`), or when the jittered refresh
 * interval passed; after a transient failure, not before its backoff step ends. A bad
 * key is not retried until one of those changes.
 */
export function modelCheckDue(
  connection: ProviderConnection,
  currentFingerprint: string,
  now: Date,
  failures: CheckFailures | undefined,
  backoff: CheckBackoff = CHECK_BACKOFF,
): CheckDue {
  const status = connection.status ?? {};
  const requested = connection.metadata.annotations?.[ANNOTATIONS.refreshRequestedAt];
  if (requested !== undefined && requested !== status.refreshRequestedAt)
    return { due: true, why: "requested" };
  if (status.credentialFingerprint !== currentFingerprint) return { due: true, why: "credential" };
  if (status.modelsCheckedGeneration !== connection.metadata.generation) return { due: true, why: "spec" };
  if (failures) {
    const wait = failures.lastAttempt.getTime() + backoffMs(failures, backoff) - now.getTime();
    return wait <= 0 ? { due: true, why: "retry" } : { due: false, nextInMs: wait };
  }
  // A rotation is pushed to the app before its check (see observe): models checked before it describe the old
  // credential.
  if (
    status.modelsCheckedTime &&
    status.credentialRotatedTime &&
    Date.parse(status.credentialRotatedTime) > Date.parse(status.modelsCheckedTime)
  )
    return { due: true, why: "rotated" };
  if (!status.modelsCheckedTime) return { due: true, why: "first" };
  const wait = Date.parse(status.modelsCheckedTime) + jitteredRefreshMs(connection) - now.getTime();
  return wait <= 0 ? { due: true, why: "refresh" } : { due: false, nextInMs: wait };
}
