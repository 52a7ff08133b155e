// modelkeys.dev/sync-requested-at: a new value writes the record and its key to the app again, even when
// nothing differs, and status.syncRequestedAt records the value handled; the same value does nothing more.
import { describe, expect, it } from "vitest";
import { ANNOTATIONS } from "../../operator/constants.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { appRecord, connection, FP_A, NOW, observe } from "./fixtures/connection.ts";

const status = (syncRequestedAt?: string) => ({
  appConnectionId: 17,
  appUpdatedTime: "2026-11-20T09:00:00.000Z",
  credentialFingerprint: FP_A,
  credentialRotatedTime: "2026-11-01T00:00:00.000Z",
  models: [{ name: "gpt-4o", available: true }],
  modelsCheckedTime: NOW.toISOString(),
  modelsCheckedGeneration: 1,
  ...(syncRequestedAt ? { syncRequestedAt } : {}),
});
const inSync = appRecord({ provider: "OpenAI", scope: "Organization", cached_available_models: "gpt-4o" });

describe("sync requested by annotation", () => {
  it("writes the record and its key again although nothing differs, and records the value", () => {
    const conn = connection({ annotations: { [ANNOTATIONS.syncRequestedAt]: "r1" }, status: status() });
    const plan = planConnection(observe(conn, { app: { kind: "ById", record: inSync } }));
    expect(plan.app).toMatchObject({ kind: "update", id: 17, pushSecrets: true });
    expect(plan.status.syncRequestedAt).toBe("r1");
    expect(plan.events.map((e) => e.reason)).toContain("SyncRequested");
  });

  it("does nothing more for a value already handled", () => {
    const conn = connection({ annotations: { [ANNOTATIONS.syncRequestedAt]: "r1" }, status: status("r1") });
    const plan = planConnection(observe(conn, { app: { kind: "ById", record: inSync } }));
    expect(plan.app).toEqual({ kind: "none" });
    expect(plan.status.syncRequestedAt).toBeUndefined();
  });

  it("without the annotation an in-sync record is left alone", () => {
    const plan = planConnection(
      observe(connection({ status: status() }), { app: { kind: "ById", record: inSync } }),
    );
    expect(plan.app).toEqual({ kind: "none" });
  });
});
