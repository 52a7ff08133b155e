// Reconciling and Stalled, kstatus's abnormal-true conditions, follow from Ready through one reason table.
import { describe, expect, it } from "vitest";
import { CONDITION, REASON, type Reason } from "../../operator/constants.ts";
import { applyConditions, findCondition } from "../../operator/reconcile/conditions.ts";
import { progressIntents, REASON_PROGRESS, withProgress } from "../../operator/reconcile/progress.ts";

const NOW = new Date("2026-11-20T10:00:00Z");
const LATER = new Date("2026-11-20T10:05:00Z");
const ready = (status: "True" | "False", reason: Reason, message = "why") =>
  applyConditions([], [{ type: CONDITION.Ready, status, reason, message }], 3, NOW);
const statusOf = (conditions: ReturnType<typeof withProgress>, type: string) =>
  findCondition(conditions, type)?.status;

describe("the reason table", () => {
  it("names every reason the operator writes", () => {
    expect(Object.keys(REASON_PROGRESS).sort()).toEqual(Object.values(REASON).sort());
  });
});

describe("progressIntents", () => {
  const notDone = Object.entries(REASON_PROGRESS).filter(([, p]) => p !== "Done") as [Reason, string][];
  it.each(notDone)(
    "Ready=False for %s sets %s True, the other False, both with that reason and message",
    (reason, progress) => {
      const conditions = withProgress(ready("False", reason, "the message"), 3, NOW);
      const other = progress === "Stalled" ? CONDITION.Reconciling : CONDITION.Stalled;
      expect(findCondition(conditions, progress)).toMatchObject({
        status: "True",
        reason,
        message: "the message",
        observedGeneration: 3,
      });
      expect(findCondition(conditions, other)).toMatchObject({ status: "False", reason });
    },
  );

  it("a Ready=True object is neither reconciling nor stalled", () => {
    const conditions = withProgress(ready("True", REASON.Synced), 3, NOW);
    expect(statusOf(conditions, CONDITION.Reconciling)).toBe("False");
    expect(statusOf(conditions, CONDITION.Stalled)).toBe("False");
  });

  it("a Ready=True object is Reconciling while the operator retries a provider outage", () => {
    const conditions = applyConditions(
      ready("True", REASON.Synced),
      [{ type: CONDITION.CredentialsValid, status: "Unknown", reason: REASON.RateLimited, message: "429" }],
      3,
      NOW,
    );
    expect(progressIntents(conditions)).toContainEqual({
      type: CONDITION.Reconciling,
      status: "True",
      reason: REASON.RateLimited,
      message: "429",
    });
  });

  it("missing-model warnings (Ready stays True) do not hold the object in progress", () => {
    const conditions = applyConditions(
      ready("True", REASON.Synced),
      [
        {
          type: CONDITION.ModelsAvailable,
          status: "True",
          reason: REASON.ModelsMissing,
          message: "missing: x",
        },
      ],
      3,
      NOW,
    );
    expect(statusOf(withProgress(conditions, 3, NOW), CONDITION.Reconciling)).toBe("False");
  });

  it("Ready=False for a reason that is normally healthy still counts as work under way, never as done", () => {
    const conditions = withProgress(ready("False", REASON.Synced), 3, NOW);
    expect(statusOf(conditions, CONDITION.Reconciling)).toBe("True");
  });

  it("keeps lastTransitionTime while a failure is unchanged, so repeated reconciles write nothing new", () => {
    const first = withProgress(ready("False", REASON.InvalidToken), 3, NOW);
    const again = withProgress(
      applyConditions(
        first,
        [{ type: CONDITION.Ready, status: "False", reason: REASON.InvalidToken, message: "why" }],
        3,
        LATER,
      ),
      3,
      LATER,
    );
    expect(again).toEqual(first);
  });
});
