// Key age: past the max age (the connection's own, else its Organization's) a connection says
// KeyRotationDue=True with one Warning Event; Ready stays True; the condition turns on time (a requeue).
import { describe, expect, it } from "vitest";
import { CONDITION, REASON } from "../../operator/constants.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import type { ObservedConnection } from "../../operator/reconcile/types.ts";
import {
  applied,
  appRecord,
  connection,
  FP_A,
  NOW,
  observe,
  readyOrganization,
} from "./fixtures/connection.ts";

const DAY = 86_400_000;
const RECORD = appRecord({ provider: "OpenAI", scope: "Organization", cached_available_models: "gpt-4o" });
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/** A synced OpenAI connection whose key was rotated `days` ago, under an Organization with `maxKeyAge`. */
function synced(
  days: number,
  options: { orgMaxKeyAge?: string; maxKeyAge?: string; dueAlready?: boolean } = {},
) {
  const conn = connection({
    spec: options.maxKeyAge ? { maxKeyAge: options.maxKeyAge } : {},
    status: {
      appConnectionId: 17,
      appUpdatedTime: "2026-11-20T09:00:00.000Z",
      credentialFingerprint: FP_A,
      credentialRotatedTime: daysAgo(days),
      models: [{ name: "gpt-4o", available: true }],
      modelsCheckedTime: NOW.toISOString(),
      modelsCheckedGeneration: 1,
      conditions: options.dueAlready
        ? [
            {
              type: CONDITION.KeyRotationDue,
              status: "True",
              reason: REASON.KeyPastMaxAge,
              lastTransitionTime: daysAgo(1),
            },
          ]
        : [],
    },
  });
  const organization = readyOrganization() as Extract<ObservedConnection["organization"], { kind: "Ready" }>;
  if (options.orgMaxKeyAge) organization.organization.spec.maxKeyAge = options.orgMaxKeyAge;
  return observe(conn, {
    organization,
    app: { kind: "ById", record: RECORD },
  });
}

const keyCondition = (observed: ObservedConnection) =>
  planConnection(observed).conditions.find((c) => c.type === CONDITION.KeyRotationDue);

describe("key age", () => {
  it("past the Organization's maxKeyAge: KeyRotationDue=True, Ready stays True, one Warning Event", () => {
    const plan = planConnection(synced(100, { orgMaxKeyAge: "90d" }));
    expect(plan.conditions.find((c) => c.type === CONDITION.KeyRotationDue)).toMatchObject({
      status: "True",
      reason: REASON.KeyPastMaxAge,
    });
    expect(plan.conditions.find((c) => c.type === CONDITION.Ready)).toMatchObject({ status: "True" });
    expect(plan.events.filter((e) => e.reason === REASON.KeyPastMaxAge)).toEqual([
      expect.objectContaining({ type: "Warning" }),
    ]);
  });

  it("records no second Event while it stays due, and writes no status when nothing changed", () => {
    const observed = synced(100, { orgMaxKeyAge: "90d" });
    const first = planConnection(observed);
    const status = nextStatus(observed.connection, first, applied(first, RECORD).result, NOW);
    const again = { ...observed, connection: { ...observed.connection, status } };
    const second = planConnection(again);
    expect(second.events.filter((e) => e.reason === REASON.KeyPastMaxAge)).toEqual([]);
    expect(nextStatus(again.connection, second, applied(second, RECORD).result, NOW)).toEqual(status);
    expect(planConnection(synced(101, { orgMaxKeyAge: "90d", dueAlready: true })).events).toEqual([]);
  });

  it("within the max age: KeyRotationDue=False, and a requeue when it comes due", () => {
    const plan = planConnection(synced(80, { orgMaxKeyAge: "90d" }));
    expect(keyCondition(synced(80, { orgMaxKeyAge: "90d" }))).toMatchObject({
      status: "False",
      reason: REASON.KeyWithinMaxAge,
    });
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(10 * DAY);
    expect(plan.events).toEqual([]);
  });

  it("the connection's own maxKeyAge overrides the Organization's", () => {
    expect(keyCondition(synced(40, { orgMaxKeyAge: "90d", maxKeyAge: "30d" }))?.status).toBe("True");
    expect(keyCondition(synced(40, { orgMaxKeyAge: "30d", maxKeyAge: "90d" }))?.status).toBe("False");
  });

  it("without a max age there is no KeyRotationDue condition (an old one is dropped)", () => {
    const observed = synced(400, { dueAlready: true });
    const plan = planConnection(observed);
    expect(plan.conditions.some((c) => c.type === CONDITION.KeyRotationDue)).toBe(false);
    const status = nextStatus(observed.connection, plan, applied(plan, RECORD).result, NOW);
    expect(status.conditions?.some((c) => c.type === CONDITION.KeyRotationDue)).toBe(false);
  });

  it("a new key starts a new age", () => {
    const observed = synced(100, { orgMaxKeyAge: "90d" });
    const rotated = {
      ...observed,
      credential: { kind: "Ready" as const, fingerprint: "sha256:cccccccccccc" },
    };
    const plan = planConnection(rotated);
    expect(plan.status.credentialRotatedTime).toBe(NOW.toISOString());
    expect(plan.conditions.find((c) => c.type === CONDITION.KeyRotationDue)?.status).toBe("False");
  });
});
