import { describe, expect, it } from "vitest";
import type { ProviderConnectionStatus } from "../../crds/index.ts";
import { CONDITION, REASON } from "../../operator/constants.ts";
import { findCondition } from "../../operator/reconcile/conditions.ts";
import { nextStatus, statusChanged, statusForError, statusPatch } from "../../operator/reconcile/status.ts";
import type { ConnectionPlan } from "../../operator/reconcile/types.ts";
import { appRecord, connection, EARLIER, FP_A, NOW, noWrite } from "./fixtures/connection.ts";

const LATER = new Date(NOW.getTime() + 60_000);

function plan(overrides: Partial<ConnectionPlan> = {}): ConnectionPlan {
  return {
    finalizer: "keep",
    app: { kind: "none" },
    conditions: [{ type: CONDITION.Ready, status: "True", reason: REASON.Synced, message: "ok" }],
    status: {},
    events: [],
    ...overrides,
  };
}

const readySynced = {
  type: "Ready",
  status: "True" as const,
  reason: "Synced",
  message: "ok",
  lastTransitionTime: EARLIER,
  observedGeneration: 1,
};
/** kstatus's pair beside a True Ready: neither reconciling nor stalled, with Ready's reason. */
const settled = (time: string, generation: number) =>
  (["Reconciling", "Stalled"] as const).map((type) => ({
    type,
    status: "False" as const,
    reason: "Synced",
    message: "ok",
    lastTransitionTime: time,
    observedGeneration: generation,
  }));
const synced: ProviderConnectionStatus = {
  observedGeneration: 1,
  scope: "Organization",
  appConnectionId: 17,
  organizationId: 3,
  credentialFingerprint: FP_A,
  credentialRotatedTime: EARLIER,
  lastSyncTime: EARLIER,
  appUpdatedTime: EARLIER,
  conditions: [readySynced, ...settled(EARLIER, 1)],
};

describe("nextStatus", () => {
  it("records observedGeneration, scope and the plan's conditions stamped with the generation", () => {
    const conn = connection({ provider: "AzureOpenAI", generation: 4 });
    const next = nextStatus(conn, plan(), noWrite, NOW);
    expect(next).toEqual({
      observedGeneration: 4,
      scope: "Model",
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Synced",
          message: "ok",
          lastTransitionTime: NOW.toISOString(),
          observedGeneration: 4,
        },
        ...settled(NOW.toISOString(), 4),
      ],
    });
  });

  it("takes the record's id and updated_at from what the app answered, and the sync time", () => {
    const record = appRecord({ provider: "OpenAI" }, { id: 42, updatedAt: "2026-11-20T10:00:01Z" });
    const next = nextStatus(connection(), plan(), { ...noWrite, record, wroteApp: true }, NOW);
    expect(next).toMatchObject({
      appConnectionId: 42,
      appUpdatedTime: "2026-11-20T10:00:01Z",
      lastSyncTime: NOW.toISOString(),
    });
  });

  it("leaves lastSyncTime alone when nothing was written to the app", () => {
    const next = nextStatus(connection({ status: synced }), plan(), noWrite, NOW);
    expect(next.lastSyncTime).toBe(EARLIER);
  });

  it("drops appConnectionId after a delete", () => {
    const next = nextStatus(
      connection({ status: synced }),
      plan({ app: { kind: "delete", id: 17 } }),
      { ...noWrite, wroteApp: true },
      NOW,
    );
    expect(next).not.toHaveProperty("appConnectionId");
  });

  it("removes a field the plan sets to undefined, and never keeps undefined values", () => {
    const next = nextStatus(
      connection({ status: synced }),
      plan({ status: { appConnectionId: undefined } }),
      noWrite,
      NOW,
    );
    expect(next).not.toHaveProperty("appConnectionId");
    expect(Object.values(next).every((v) => v !== undefined)).toBe(true);
  });

  it("keeps fields the plan does not mention (azure, models)", () => {
    const status = {
      ...synced,
      azure: { accountName: "acme-aoai" },
      models: [{ name: "gpt-4o", available: true }],
    };
    const next = nextStatus(connection({ status }), plan(), noWrite, NOW);
    expect(next.azure).toEqual({ accountName: "acme-aoai" });
    expect(next.models).toEqual([{ name: "gpt-4o", available: true }]);
  });

  it("keeps a condition's lastTransitionTime when its status did not flip", () => {
    const next = nextStatus(connection({ status: synced }), plan(), noWrite, LATER);
    expect(findCondition(next.conditions, "Ready")?.lastTransitionTime).toBe(EARLIER);
  });

  it("equals the current status when the plan repeats it (nothing to write)", () => {
    const conn = connection({ status: synced });
    const next = nextStatus(
      conn,
      plan({ status: { organizationId: 3, credentialFingerprint: FP_A } }),
      noWrite,
      LATER,
    );
    expect(next).toEqual(synced);
    expect(statusChanged(conn, next)).toBe(false);
  });
});

describe("statusChanged", () => {
  it("is false for an equal status, whatever the key order", () => {
    const reordered = Object.fromEntries(Object.entries(synced).reverse()) as ProviderConnectionStatus;
    expect(statusChanged(connection({ status: synced }), reordered)).toBe(false);
  });

  it("ignores undefined values in the current status", () => {
    const conn = connection({ status: { ...synced, refreshRequestedAt: undefined } });
    expect(statusChanged(conn, synced)).toBe(false);
  });

  it.each<[string, ProviderConnectionStatus]>([
    ["a new fingerprint", { ...synced, credentialFingerprint: "sha256:bbbbbbbbbbbb" }],
    ["a removed id", (({ appConnectionId: _, ...rest }) => rest)(synced)],
    ["a condition message", { ...synced, conditions: [{ ...readySynced, message: "other" }] }],
    ["a new field", { ...synced, availableModels: 0 }],
  ])("is true for %s", (_case, next) => {
    expect(statusChanged(connection({ status: synced }), next)).toBe(true);
  });

  it("is true for an object without status", () => {
    expect(statusChanged(connection(), { observedGeneration: 1 })).toBe(true);
  });
});

describe("statusPatch", () => {
  it("sets every field of the next status and nulls the ones it dropped", () => {
    const { appConnectionId: _, ...next } = synced;
    const patch = statusPatch(connection({ status: synced }), { ...next, availableModels: 2 });
    expect(patch).toEqual({ ...next, availableModels: 2, appConnectionId: null });
  });

  it("has no nulls when nothing was dropped", () => {
    expect(Object.values(statusPatch(connection(), synced))).not.toContain(null);
  });
});

describe("statusForError", () => {
  it("turns Ready and AppSynced False with the reason, keeping everything that was pushed", () => {
    const conn = connection({ status: synced, generation: 2 });
    const next = statusForError(conn, REASON.AppUnreachable, "the app is unreachable: timeout", NOW);
    const { conditions: _, observedGeneration: __, ...pushed } = synced;
    expect(next).toMatchObject({ ...pushed, observedGeneration: 2 });
    for (const type of [CONDITION.Ready, CONDITION.AppSynced]) {
      expect(findCondition(next.conditions, type)).toEqual({
        type,
        status: "False",
        reason: REASON.AppUnreachable,
        message: "the app is unreachable: timeout",
        lastTransitionTime: NOW.toISOString(),
        observedGeneration: 2,
      });
    }
  });

  it("changes nothing the second time the same error happens (one write, one event)", () => {
    const first = statusForError(connection({ status: synced }), REASON.InvalidToken, "401", NOW);
    const again = statusForError(connection({ status: first }), REASON.InvalidToken, "401", LATER);
    expect(again).toEqual(first);
    expect(statusChanged(connection({ status: first }), again)).toBe(false);
  });

  it("writes for an object that has no status yet", () => {
    const next = statusForError(connection(), REASON.Reconciling, "boom", NOW);
    expect(next).toMatchObject({ observedGeneration: 1, scope: "Organization" });
    expect(statusChanged(connection(), next)).toBe(true);
  });
});
