// A rotation is pushed before it is checked: the check follows in the next reconcile ("rotated").
import { describe, expect, it } from "vitest";
import { modelCheckDue } from "../../operator/reconcile/model-schedule.ts";
import { connection, FP_A, NOW } from "./fixtures/connection.ts";

const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

/** A synced connection whose credential FP_A was pushed at `rotated` and whose models were checked at `checked`. */
const synced = (rotated: string, checked: string) =>
  connection({
    status: {
      observedGeneration: 1,
      modelsCheckedGeneration: 1,
      appConnectionId: 17,
      credentialFingerprint: FP_A,
      credentialRotatedTime: rotated,
      modelsCheckedTime: checked,
    },
  });

describe("modelCheckDue after a rotation", () => {
  it.each([
    ["pushed after the last check", at(-1_000), at(-5_000), { due: true, why: "rotated" }],
    ["pushed and checked together", at(-5_000), at(-5_000), { due: false }],
    ["checked after the push", at(-5_000), at(-1_000), { due: false }],
  ] as const)("%s", (_case, rotated, checked, expected) => {
    expect(modelCheckDue(synced(rotated, checked), FP_A, NOW, undefined)).toMatchObject(expected);
  });

  it("a failed check's backoff still governs the retry", () => {
    const due = modelCheckDue(synced(at(-1_000), at(-5_000)), FP_A, NOW, {
      count: 1,
      lastAttempt: new Date(NOW.getTime() - 100),
    });
    expect(due.due).toBe(false);
  });
});
