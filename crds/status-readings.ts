// What a ProviderConnection's spec and status say about its key and models, read one way by the operator (key
// age, metrics) and the kubectl plugin (audit). Pure: no I/O, the clock comes in as an argument.
import { durationToMs } from "./common.ts";
import type { Organization, ProviderConnection } from "./index.ts";

/** The max key age that applies to a connection: its own spec.maxKeyAge, else its Organization's, else none. */
export function maxKeyAge(
  connection: Pick<ProviderConnection, "spec">,
  organization: Pick<Organization, "spec"> | undefined,
): string | undefined {
  return connection.spec.maxKeyAge ?? organization?.spec.maxKeyAge;
}

/** When the key was last rotated, or first synced (status.credentialRotatedTime); undefined before a sync. */
export function keyRotatedTime(connection: Pick<ProviderConnection, "status">): string | undefined {
  return connection.status?.credentialRotatedTime;
}

/** The key's age in milliseconds at `now`; undefined before the first sync. */
export function keyAgeMs(connection: Pick<ProviderConnection, "status">, now: Date): number | undefined {
  const since = keyRotatedTime(connection);
  if (since === undefined) return undefined;
  const at = Date.parse(since);
  return Number.isNaN(at) ? undefined : Math.max(0, now.getTime() - at);
}

/**
 * How long until the key passes `maxAge` (≤ 0: already past); undefined without a max age or before the
 * first sync.
 */
export function keyAgeRemainingMs(
  connection: Pick<ProviderConnection, "status">,
  maxAge: string | undefined,
  now: Date,
): number | undefined {
  const age = keyAgeMs(connection, now);
  if (maxAge === undefined || age === undefined) return undefined;
  return durationToMs(maxAge) - age;
}

/**
 * Models working / expected. With spec.models: how many of those are available, of how many. Without: how many
 * of the checked (supported) models are available, of how many. Undefined before the first check.
 */
export function modelCounts(
  connection: Pick<ProviderConnection, "spec" | "status">,
): { working: number; expected: number } | undefined {
  const models = connection.status?.models;
  if (models === undefined) return undefined;
  const expected = connection.spec.models;
  if (expected && expected.length > 0) {
    const available = new Set(models.filter((m) => m.available).map((m) => m.name));
    // An Azure deployment serves one model under its own name: ModelsAvailable already judged it.
    const judged = connection.status?.conditions?.find((c) => c.type === "ModelsAvailable");
    const working =
      judged?.status === "True" ? expected.length : expected.filter((name) => available.has(name)).length;
    return { working, expected: expected.length };
  }
  return { working: models.filter((m) => m.available).length, expected: models.length };
}

/** The Ready condition's status and reason (Unknown before the operator wrote one). */
export function readiness(connection: Pick<ProviderConnection, "status">): {
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
} {
  const ready = connection.status?.conditions?.find((c) => c.type === "Ready");
  return ready
    ? { status: ready.status, reason: ready.reason, message: ready.message ?? "" }
    : { status: "Unknown", reason: "NotReconciled", message: "the operator has not reported on it yet" };
}
