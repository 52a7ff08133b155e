// The record status points at: cached_available_models written only when the operator's own result changes,
// the app's own refresh of it not fought, and records that are no longer ours left alone.
import { describe, expect, it } from "vitest";
import type { ProviderConnectionStatus } from "../../crds/index.ts";
import type { AppRecordView, ManagedFields } from "../../operator/reconcile/app-fields.ts";
import { planRecordSync } from "../../operator/reconcile/record-sync.ts";

const FP = "sha256:aaaaaaaaaaaa";
const T0 = "2026-11-20T10:00:00.000Z";
const T1 = "2026-11-20T10:00:00.001Z";
const T2 = "2026-11-20T11:00:00.000Z";
const managed = {
  provider: "OpenAI",
  scope: "Organization",
  deployment_name: null,
  endpoint: null,
  google_project_id: null,
  google_location: null,
} as const satisfies ManagedFields;
const want = (models: string | undefined): ManagedFields =>
  models === undefined ? { ...managed } : { ...managed, cached_available_models: models };
const record = (fields: Partial<AppRecordView> = {}): AppRecordView => ({
  ...managed,
  id: 4,
  cached_available_models: "gpt-4o",
  updated_at: T0,
  ...fields,
});
const status = (fields: Partial<ProviderConnectionStatus> = {}): ProviderConnectionStatus => ({
  appConnectionId: 4,
  credentialFingerprint: FP,
  appUpdatedTime: T0,
  appCachedAvailableModels: "gpt-4o",
  ...fields,
});

describe("cached_available_models", () => {
  it.each<[string, ManagedFields, AppRecordView, ProviderConnectionStatus, unknown, unknown]>([
    [
      "the app holds its own list, our result is unchanged → nothing",
      want("gpt-4o"),
      record({ cached_available_models: "app-own" }),
      status(),
      { kind: "none" },
      { appCachedAvailableModels: "gpt-4o" },
    ],
    [
      "our result changed → that field alone, remembered",
      want("gpt-4o,gpt-4.1"),
      record({ cached_available_models: "app-own" }),
      status(),
      {
        kind: "update",
        id: 4,
        fields: { cached_available_models: "gpt-4o,gpt-4.1" },
        pushSecrets: false,
      },
      { appCachedAvailableModels: "gpt-4o,gpt-4.1", appRefreshedTime: undefined },
    ],
    [
      "no result yet → nothing, whatever the app holds",
      want(undefined),
      record({ cached_available_models: "app-own" }),
      status({ appCachedAvailableModels: undefined }),
      { kind: "none" },
      { appCachedAvailableModels: undefined },
    ],
    [
      "the app rewrote it after our write (updated_at moved, nothing else differs) → recorded, no write",
      want("gpt-4o"),
      record({ cached_available_models: "app-own", updated_at: T1 }),
      status(),
      { kind: "none" },
      { appCachedAvailableModels: "gpt-4o", appRefreshedTime: T1 },
    ],
    [
      "the record as the app's refresh left it → nothing",
      want("gpt-4o"),
      record({ cached_available_models: "app-own", updated_at: T1 }),
      status({ appRefreshedTime: T1 }),
      { kind: "none" },
      { appCachedAvailableModels: "gpt-4o" },
    ],
    [
      "a status from before the field, the record already holds our list → nothing, remembered",
      want("gpt-4o"),
      record(),
      status({ appCachedAvailableModels: undefined }),
      { kind: "none" },
      { appCachedAvailableModels: "gpt-4o" },
    ],
    [
      "a status from before the field, the record holds another list → written once",
      want("gpt-4o"),
      record({ cached_available_models: "app-own" }),
      status({ appCachedAvailableModels: undefined }),
      {
        kind: "update",
        id: 4,
        fields: { cached_available_models: "gpt-4o" },
        pushSecrets: false,
      },
      { appCachedAvailableModels: "gpt-4o", appRefreshedTime: undefined },
    ],
  ])("%s", (_case, desired, rec, current, action, statusFields) => {
    const sync = planRecordSync(desired, rec, current, FP);
    expect(sync.action).toEqual(action);
    expect(sync.status).toEqual(statusFields);
  });
});

describe("a change made in the app", () => {
  const restore = { kind: "update", id: 4, fields: managed, pushSecrets: true };
  it.each<[string, AppRecordView, ProviderConnectionStatus]>([
    ["no visible difference (a key changed by hand)", record({ updated_at: T2 }), status()],
    [
      "another field changed too",
      record({ cached_available_models: "app-own", endpoint: "x", updated_at: T2 }),
      status(),
    ],
    [
      "a second change after the app's own refresh",
      record({ cached_available_models: "app-own", updated_at: T2 }),
      status({ appRefreshedTime: T1 }),
    ],
  ])("%s → restored with the credential, the list not rewritten (DriftCorrected)", (_case, rec, current) => {
    const sync = planRecordSync(want("gpt-4o"), rec, current, FP);
    expect(sync.action).toEqual(restore);
    expect(sync.events.map((e) => e.reason)).toEqual(["DriftCorrected"]);
    expect(sync.status).toEqual({ appCachedAvailableModels: "gpt-4o", appRefreshedTime: undefined });
  });
});

describe("a record that is no longer the operator's", () => {
  it.each<[string, Partial<AppRecordView>, string]>([
    ["made internal in the app", { is_internal: true }, "internal"],
    ["turned into a user's own (scope User)", { scope: "User" }, "scope User"],
  ])("%s → left alone, a new one created", (_case, fields, why) => {
    const sync = planRecordSync(want("gpt-4o"), record({ ...fields, updated_at: T2 }), status(), FP);
    expect(sync.action).toEqual({ kind: "create", fields: want("gpt-4o") });
    expect(sync.events).toMatchObject([{ reason: "Recreated" }]);
    expect(sync.events[0]?.message).toContain(why);
  });
});
