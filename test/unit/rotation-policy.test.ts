// rotationPolicy Verify: a rotated key the provider rejects stays out of the app while the app's key works;
// a provider that cannot answer never holds it; Immediate and first syncs push as before.
import { describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import { CONDITION, REASON } from "../../operator/constants.ts";
import type { ModelCheck } from "../../operator/providers/types.ts";
import type { AppRecordView } from "../../operator/reconcile/app-fields.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import type { ObservedConnection } from "../../operator/reconcile/types.ts";
import { applied, connection, FP_A, FP_B, NOW, observe } from "./fixtures/connection.ts";

const LATER = new Date(NOW.getTime() + 10 * 60_000);
const FP_C = "sha256:cccccccccccc";
const valid: ModelCheck = {
  outcome: "Valid",
  message: "the credential is valid",
  models: [{ name: "gpt-4o", available: true }],
};
const rejected: ModelCheck = { outcome: "InvalidCredentials", message: "HTTP 401", models: [] };
const outage: ModelCheck = { outcome: "Unavailable", message: "HTTP 503", models: [] };
const limited: ModelCheck = { outcome: "RateLimited", message: "HTTP 429", models: [] };

function reconcile(observed: ObservedConnection, existing?: AppRecordView) {
  const plan = planConnection(observed);
  const { result, record } = applied(plan, existing, { updatedAt: observed.now.toISOString() });
  const status = nextStatus(observed.connection, plan, result, observed.now);
  return { plan, status, after: { ...observed.connection, status } as ProviderConnection, record };
}

/** A connection synced with FP_A and a check of `check` (Valid: the app's key works). */
function synced(rotationPolicy?: "Verify" | "Immediate", check: ModelCheck = valid) {
  const conn = connection();
  if (rotationPolicy) conn.spec.rotationPolicy = rotationPolicy;
  const { after, record } = reconcile(observe(conn, { modelCheck: check }));
  if (!record) throw new Error("fixture: no record");
  return { conn: after, record };
}

const rotate = (conn: ProviderConnection, record: AppRecordView, check: ModelCheck | undefined, fp = FP_B) =>
  observe(conn, {
    app: { kind: "ById", record },
    credential: { kind: "Ready", fingerprint: fp },
    modelCheck: check,
    now: LATER,
  });

describe("rotationPolicy", () => {
  it.each([
    // policy, the app's key works, check of the new key, pushed
    ["Verify", true, rejected, false],
    ["Verify", true, valid, true],
    ["Verify", true, outage, true],
    ["Verify", true, limited, true],
    ["Verify", false, rejected, true],
    ["Immediate", true, undefined, true],
    ["Immediate", true, rejected, true],
    [undefined, true, rejected, false],
  ] as const)("%s, app key works %s, new key %o → pushed %s", (policy, works, check, pushed) => {
    const { conn, record } = synced(policy, works ? valid : rejected);
    const plan = planConnection(rotate(conn, record, check));
    if (pushed) {
      expect(plan.app).toMatchObject({ kind: "update", pushSecrets: true });
      expect(plan.status.credentialFingerprint).toBe(FP_B);
      expect(plan.status.heldCredentialFingerprint).toBeUndefined();
    } else {
      expect(plan.app).toEqual({ kind: "none" });
      expect(plan.status.credentialFingerprint).toBe(FP_A);
      expect(plan.status.heldCredentialFingerprint).toBe(FP_B);
    }
  });

  it("a held key: CredentialsValid and Ready False RotationHeld, one Warning, the models of the app's key stay", () => {
    const { conn, record } = synced();
    const plan = planConnection(rotate(conn, record, rejected));
    const credentials = plan.conditions.find((c) => c.type === CONDITION.CredentialsValid);
    expect(credentials).toMatchObject({ status: "False", reason: REASON.RotationHeld });
    expect(credentials?.message).toContain(FP_B);
    expect(credentials?.message).toContain(FP_A);
    expect(plan.conditions.find((c) => c.type === CONDITION.Ready)).toMatchObject({
      status: "False",
      reason: REASON.RotationHeld,
    });
    expect(plan.events).toEqual([expect.objectContaining({ type: "Warning", reason: REASON.RotationHeld })]);
    expect(plan.status.models).toEqual(conn.status?.models);
    expect(plan.status.modelsCheckedTime).toBeUndefined();
  });

  it("a hold goes on without a check or another Event, and ends when a good key comes", () => {
    const { conn, record } = synced();
    const held = reconcile(rotate(conn, record, rejected), record);
    const again = reconcile(rotate(held.after, record, undefined), record);
    expect(again.plan.app).toEqual({ kind: "none" });
    expect(again.plan.events).toEqual([]);
    expect(again.status).toEqual(held.status);

    const fixed = planConnection(rotate(held.after, record, valid, FP_C));
    expect(fixed.app).toMatchObject({ kind: "update", pushSecrets: true });
    expect(fixed.status).toMatchObject({ credentialFingerprint: FP_C, heldCredentialFingerprint: undefined });
    expect(fixed.events.map((e) => e.reason)).toContain("CredentialRotated");
    expect(fixed.conditions.find((c) => c.type === CONDITION.Ready)).toMatchObject({ status: "True" });
  });

  it("Immediate set during a hold pushes the held key", () => {
    const { conn, record } = synced();
    const held = reconcile(rotate(conn, record, rejected), record).after;
    held.spec.rotationPolicy = "Immediate";
    const plan = planConnection(rotate(held, record, undefined));
    expect(plan.app).toMatchObject({ kind: "update", pushSecrets: true });
    expect(plan.status.credentialFingerprint).toBe(FP_B);
  });

  it("a first sync is not a rotation: a rejected key is pushed and reported invalid", () => {
    const plan = planConnection(observe(connection(), { modelCheck: rejected }));
    expect(plan.app.kind).toBe("create");
    expect(plan.conditions.find((c) => c.type === CONDITION.CredentialsValid)).toMatchObject({
      reason: REASON.InvalidCredentials,
    });
  });

  it("a record deleted in the app during a hold is recreated with the current key", () => {
    const { conn, record } = synced();
    const held = reconcile(rotate(conn, record, rejected), record).after;
    const plan = planConnection(
      observe(held, {
        app: { kind: "ById", record: undefined },
        credential: { kind: "Ready", fingerprint: FP_B },
      }),
    );
    expect(plan.app.kind).toBe("create");
    expect(plan.status.credentialFingerprint).toBe(FP_B);
  });
});
