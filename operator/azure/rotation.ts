// The order of an account's key rotation, decided from what each connection's Secret and app hold: never
// regenerate a key that a Secret or an app holds, so the app never holds a dead key, even after a crash.
import { fingerprint } from "./ports.ts";
import type { KeyName } from "./provisioner.ts";

/** The account's two keys as they now are. */
export type KeyValues = Record<KeyName, string>;

/** What one connection of the account holds. */
export interface MemberKeys {
  /** `namespace/name`, for messages. */
  name: string;
  /** The api-key in its owned Secret, if any. */
  secretValue?: string;
  /** status.credentialFingerprint: the credential the app holds, if it holds one. */
  appFingerprint?: string;
}

/** How far a rotation has come; `switching` once the spare is regenerated and the Secrets hold it. */
export type RotationPhase = { phase: "idle" } | { phase: "switching"; from: KeyName; to: KeyName };

/** What to do next. */
export type RotationStep =
  /** Regenerate `key` (held by nobody), then point every Secret at it (phase `switching`). */
  | { kind: "regenerateSpare"; key: KeyName; from: KeyName }
  /** Every app holds the new key: regenerate the old one; the rotation is then done. */
  | { kind: "regenerateOld"; key: KeyName }
  /** Some apps still hold the other key: wait for their sync. */
  | { kind: "wait"; waitingFor: string[] };

const OTHER: Record<KeyName, KeyName> = { key1: "key2", key2: "key1" };

/** The fingerprint an app holding `value` reports (the AzureOpenAI credential is the API key alone). */
export function keyFingerprint(value: string): string {
  return fingerprint({ apiKey: value });
}

/** Which of the keys someone holds: a Secret holding its value or an app holding its fingerprint. */
export function heldKeys(keys: KeyValues, members: readonly MemberKeys[]): Set<KeyName> {
  const held = new Set<KeyName>();
  for (const name of ["key1", "key2"] as const) {
    const value = keys[name];
    const print = keyFingerprint(value);
    if (members.some((m) => m.secretValue === value || m.appFingerprint === print)) held.add(name);
  }
  return held;
}

/**
 * The key Secrets should hold when no rotation is switching: the one most Secrets hold already (so a
 * restart never switches the apps), key1 when none holds either.
 */
export function activeKeyOf(keys: KeyValues, secretValues: readonly (string | undefined)[]): KeyName {
  const count = (name: KeyName) => secretValues.filter((v) => v === keys[name]).length;
  return count("key2") > count("key1") ? "key2" : "key1";
}

/**
 * The next step of a rotation.
 *
 * Guarantees: a key is regenerated only when no Secret and no app holds it (`idle`), or when every app
 * that holds a key holds the new one and the Secrets were switched (`switching`); so a rotation that
 * restarts at `idle` after a crash at any point waits or rotates again, and never kills a key in use.
 * The first rotation of an account regenerates key2, switches to it, then regenerates key1; the next one
 * goes the other way.
 */
export function rotationStep(
  phase: RotationPhase,
  keys: KeyValues,
  members: readonly MemberKeys[],
): RotationStep {
  if (phase.phase === "switching") {
    const target = keyFingerprint(keys[phase.to]);
    const waitingFor = members
      .filter((m) => m.appFingerprint !== undefined && m.appFingerprint !== target)
      .map((m) => m.name);
    return waitingFor.length > 0 ? { kind: "wait", waitingFor } : { kind: "regenerateOld", key: phase.from };
  }
  const held = heldKeys(keys, members);
  if (held.size === 2) {
    // A switch under way (after a restart): wait until every app holds what its Secret holds.
    const waitingFor = members
      .filter((m) => m.secretValue === undefined || m.appFingerprint !== keyFingerprint(m.secretValue))
      .filter((m) => m.appFingerprint !== undefined)
      .map((m) => m.name);
    return { kind: "wait", waitingFor };
  }
  const spare: KeyName = held.has("key2") ? "key1" : "key2";
  return { kind: "regenerateSpare", key: spare, from: OTHER[spare] };
}
