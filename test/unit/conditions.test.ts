import { describe, expect, it } from "vitest";
import type { Condition } from "../../crds/index.ts";
import { CONDITION, REASON } from "../../operator/constants.ts";
import { applyConditions, type ConditionIntent, findCondition } from "../../operator/reconcile/conditions.ts";
import { EARLIER, NOW } from "./fixtures/connection.ts";

const readyTrue: ConditionIntent = {
  type: CONDITION.Ready,
  status: "True",
  reason: REASON.Synced,
  message: "ok",
};
const readyFalse: ConditionIntent = {
  type: CONDITION.Ready,
  status: "False",
  reason: REASON.SecretNotFound,
  message: "Secret openai not found",
};
const existing = (intent: ConditionIntent, at = EARLIER, observedGeneration = 1): Condition => ({
  ...intent,
  lastTransitionTime: at,
  observedGeneration,
});

describe("applyConditions", () => {
  it("stamps a new condition with now and the generation", () => {
    expect(applyConditions(undefined, [readyTrue], 4, NOW)).toEqual([
      { ...readyTrue, lastTransitionTime: NOW.toISOString(), observedGeneration: 4 },
    ]);
  });

  it("omits observedGeneration when none is given", () => {
    const [ready] = applyConditions([], [readyTrue], undefined, NOW);
    expect(ready).not.toHaveProperty("observedGeneration");
  });

  it.each([
    ["same status, same reason and message", readyTrue, readyTrue, EARLIER],
    ["same status, new reason", readyFalse, { ...readyFalse, reason: REASON.SecretKeyMissing }, EARLIER],
    ["same status, new message", readyFalse, { ...readyFalse, message: "other" }, EARLIER],
    ["True → False", readyTrue, readyFalse, NOW.toISOString()],
    ["False → True", readyFalse, readyTrue, NOW.toISOString()],
    ["True → Unknown", readyTrue, { ...readyTrue, status: "Unknown" as const }, NOW.toISOString()],
  ])("%s: lastTransitionTime is %s", (_case, before, after, transition) => {
    const [ready] = applyConditions([existing(before)], [after], 2, NOW);
    expect(ready).toEqual({ ...after, lastTransitionTime: transition, observedGeneration: 2 });
  });

  it("keeps conditions the intents do not mention, untouched", () => {
    const credentials = existing({
      type: CONDITION.CredentialsValid,
      status: "False",
      reason: REASON.InvalidCredentials,
      message: "401",
    });
    const result = applyConditions([credentials, existing(readyTrue)], [readyTrue], 2, NOW);
    expect(findCondition(result, CONDITION.CredentialsValid)).toEqual(credentials);
  });

  it("returns the kstatus order whatever the input order, unknown types last by name", () => {
    const intents: ConditionIntent[] = [
      { type: CONDITION.JSONMode, status: "True", reason: REASON.JSONModeSupported, message: "" },
      { type: CONDITION.Provisioned, status: "True", reason: REASON.Provisioned, message: "" },
      { type: CONDITION.ModelsAvailable, status: "True", reason: REASON.ModelsAvailable, message: "" },
      { type: CONDITION.AppSynced, status: "True", reason: REASON.Synced, message: "" },
      readyTrue,
      { type: CONDITION.OpenAICompatible, status: "True", reason: REASON.Valid, message: "" },
      { type: CONDITION.CredentialsValid, status: "True", reason: REASON.Valid, message: "" },
    ];
    const foreign = [
      existing({ ...readyTrue, type: "Zeta" as never }),
      existing({ ...readyTrue, type: "Alpha" as never }),
    ];
    const types = applyConditions(foreign, intents, 1, NOW).map((c) => c.type);
    expect(types).toEqual([
      "Ready",
      "AppSynced",
      "CredentialsValid",
      "ModelsAvailable",
      "OpenAICompatible",
      "JSONMode",
      "Provisioned",
      "Alpha",
      "Zeta",
    ]);
  });

  it("is idempotent: applying the same intents twice gives identical conditions", () => {
    const once = applyConditions(
      undefined,
      [readyFalse, { ...readyFalse, type: CONDITION.AppSynced }],
      3,
      NOW,
    );
    const later = new Date(NOW.getTime() + 60_000);
    expect(
      applyConditions(once, [readyFalse, { ...readyFalse, type: CONDITION.AppSynced }], 3, later),
    ).toEqual(once);
  });

  it("does not modify the existing array", () => {
    const before = [existing(readyTrue)];
    const copy = structuredClone(before);
    applyConditions(before, [readyFalse], 2, NOW);
    expect(before).toEqual(copy);
  });
});

describe("findCondition", () => {
  it("finds by type, or undefined", () => {
    const conditions = [existing(readyTrue)];
    expect(findCondition(conditions, "Ready")).toEqual(conditions[0]);
    expect(findCondition(conditions, "AppSynced")).toBeUndefined();
    expect(findCondition(undefined, "Ready")).toBeUndefined();
  });
});
