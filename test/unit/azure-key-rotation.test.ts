// The order of an account's key rotation: which key is regenerated when, decided from what the key Secret and
// each app hold, so no app ever holds a dead key, even after a crash mid-rotation.
import { describe, expect, it } from "vitest";
import type { AzureOpenAIAccount } from "../../operator/azure/account.ts";
import { pendingRotationRequest } from "../../operator/azure/key-rotation.ts";
import {
  activeKeyOf,
  heldKeys,
  keyFingerprint,
  type MemberKeys,
  type RotationPhase,
  type RotationStep,
  rotationStep,
} from "../../operator/azure/rotation.ts";

const K1 = "key1-value-aaaaaaaa";
const K2 = "key2-value-bbbbbbbb";
const K2_NEW = "key2-value-new-cccc";
const keys = { key1: K1, key2: K2 };
const onKey = (name: string, value: string): MemberKeys => ({
  name,
  secretValue: value,
  appFingerprint: keyFingerprint(value),
});
const idle: RotationPhase = { phase: "idle" };

describe("rotationStep", () => {
  const cases: [string, RotationPhase, Record<"key1" | "key2", string>, MemberKeys[], RotationStep][] = [
    [
      "every app on key1: regenerate key2 first",
      idle,
      keys,
      [onKey("a", K1), onKey("b", K1)],
      { kind: "regenerateSpare", key: "key2", from: "key1" },
    ],
    [
      "every app on key2 (after a rotation): regenerate key1 first",
      idle,
      keys,
      [onKey("a", K2)],
      { kind: "regenerateSpare", key: "key1", from: "key2" },
    ],
    [
      "no app yet, no Secret: key2 first",
      idle,
      keys,
      [{ name: "a" }],
      { kind: "regenerateSpare", key: "key2", from: "key1" },
    ],
    [
      "a Secret switched, its app not yet (a crash mid-switch): wait for that app",
      idle,
      { key1: K1, key2: K2_NEW },
      [{ name: "a", secretValue: K2_NEW, appFingerprint: keyFingerprint(K1) }, onKey("b", K2_NEW)],
      { kind: "wait", waitingFor: ["a"] },
    ],
    [
      "switching: an app still on the old key holds the rotation",
      { phase: "switching", from: "key1", to: "key2" },
      { key1: K1, key2: K2_NEW },
      [onKey("a", K2_NEW), { name: "b", secretValue: K2_NEW, appFingerprint: keyFingerprint(K1) }],
      { kind: "wait", waitingFor: ["b"] },
    ],
    [
      "switching: every app holds the new key: regenerate the old one",
      { phase: "switching", from: "key1", to: "key2" },
      { key1: K1, key2: K2_NEW },
      [onKey("a", K2_NEW), onKey("b", K2_NEW)],
      { kind: "regenerateOld", key: "key1" },
    ],
    [
      "switching: a connection without an app does not hold the rotation",
      { phase: "switching", from: "key1", to: "key2" },
      { key1: K1, key2: K2_NEW },
      [onKey("a", K2_NEW), { name: "b", secretValue: K2_NEW }],
      { kind: "regenerateOld", key: "key1" },
    ],
  ];
  it.each(cases)("%s", (_label, phase, values, members, expected) => {
    expect(rotationStep(phase, values, members)).toEqual(expected);
  });

  it("never regenerates a key that a Secret or an app holds", () => {
    const fingerprints = [undefined, keyFingerprint(K1), keyFingerprint(K2)];
    const secrets = [undefined, K1, K2];
    for (const appA of fingerprints)
      for (const secretA of secrets)
        for (const appB of fingerprints)
          for (const secretB of secrets) {
            const members = [
              { name: "a", secretValue: secretA, appFingerprint: appA },
              { name: "b", secretValue: secretB, appFingerprint: appB },
            ];
            const step = rotationStep(idle, keys, members);
            if (step.kind === "regenerateSpare") expect(heldKeys(keys, members).has(step.key)).toBe(false);
          }
  });

  it("walks a whole rotation with two connections: key2, switch, both apps, then key1", () => {
    let values = { ...keys };
    let members = [onKey("a", K1), onKey("b", K1)];
    const first = rotationStep(idle, values, members);
    expect(first).toEqual({ kind: "regenerateSpare", key: "key2", from: "key1" });
    values = { ...values, key2: K2_NEW };
    // Secrets switched; the apps follow one by one.
    const switching: RotationPhase = { phase: "switching", from: "key1", to: "key2" };
    members = members.map((m) => ({ ...m, secretValue: K2_NEW }));
    expect(rotationStep(switching, values, members)).toEqual({ kind: "wait", waitingFor: ["a", "b"] });
    members[0] = onKey("a", K2_NEW);
    expect(rotationStep(switching, values, members)).toEqual({ kind: "wait", waitingFor: ["b"] });
    members[1] = onKey("b", K2_NEW);
    expect(rotationStep(switching, values, members)).toEqual({ kind: "regenerateOld", key: "key1" });
  });
});

describe("activeKeyOf (the key the Secrets carry after a restart)", () => {
  it.each([
    [[K1, K1], "key1"],
    [[K2, K1, K2], "key2"],
    [[K1, K2], "key1"],
    [[undefined, "stale"], "key1"],
    [[], "key1"],
  ] as const)("%j → %s", (values, expected) => {
    expect(activeKeyOf(keys, values)).toBe(expected);
  });
});

describe("pendingRotationRequest (the account's annotation)", () => {
  const withAnnotation = (value?: string, handled?: string): AzureOpenAIAccount =>
    ({
      metadata: {
        name: "acme",
        namespace: "ml",
        ...(value ? { annotations: { "modelkeys.dev/rotate-key-requested-at": value } } : {}),
      },
      status: handled ? { rotateKeyRequestedAt: handled } : {},
    }) as AzureOpenAIAccount;

  it.each([
    ["no annotation", withAnnotation(), {}, undefined],
    ["a new request", withAnnotation("t1"), {}, "t1"],
    ["served, in status", withAnnotation("t1", "t1"), {}, undefined],
    ["a newer one than status", withAnnotation("t2", "t1"), {}, "t2"],
    ["served by this process", withAnnotation("t1"), { rotated: { value: "t1", time: "x" } }, undefined],
    ["being served", withAnnotation("t1"), { rotating: "t1" }, undefined],
    ["newer than the one being served", withAnnotation("t2"), { rotating: "t1" }, "t2"],
  ])("%s", (_label, account, memory, expected) => {
    expect(pendingRotationRequest(account, memory)).toBe(expected);
  });
});
