// What to do with the app record status points at: leave one that is no longer ours, recreate a deleted one,
// restore one changed in the app, patch drift, and write cached_available_models only when our check changed.
import type { ProviderConnectionStatus } from "../../crds/index.ts";
import { offLimitsReason } from "../app/off-limits.ts";
import { type AppRecordView, fieldDrift, type ManagedFields } from "./app-fields.ts";
import type { AppAction, ConnectionPlan, PlannedEvent } from "./types.ts";

/** The part of a plan the record decides. */
export interface RecordSync {
  action: AppAction;
  events: PlannedEvent[];
  /** Status fields that follow from the decision (`undefined` removes one). */
  status: Pick<ConnectionPlan["status"], "appCachedAvailableModels" | "appRefreshedTime">;
}

/**
 * Plans the sync of the record `status.appConnectionId` names (`record` undefined: gone from the app).
 *
 * Guarantees: a record that is off-limits (internal, scope User) is never written: a new one is created and it is
 * left alone. `cached_available_models` is compared with what the operator last wrote (status), never with what
 * the app holds, so an app that writes the field itself is not fought: one write per change of our own result.
 * A change in the app (its updated_at moved) restores the record and pushes the credential again, except the
 * first change after our write that touches only `cached_available_models`: that is the app refreshing its own
 * list, and is recorded (status.appRefreshedTime) without a write.
 * Caveats: an app change that also refreshes the list right after our write looks like the app's own refresh;
 * the next change in the app is restored as usual.
 */
export function planRecordSync(
  desired: ManagedFields,
  record: AppRecordView | undefined,
  status: ProviderConnectionStatus,
  fingerprint: string,
): RecordSync {
  const id = status.appConnectionId;
  const { cached_available_models: wantCached, ...managed } = desired;
  const created = (message: string): RecordSync => ({
    action: { kind: "create", fields: desired },
    events: [normal("Recreated", message)],
    status: { appCachedAvailableModels: wantCached ?? undefined, appRefreshedTime: undefined },
  });
  if (record === undefined) return created(`app connection ${id} was deleted in the app; recreated it`);
  const notOurs = offLimitsReason(record);
  if (notOurs) {
    return created(
      `app connection ${id} is no longer the operator's (${notOurs}); left it alone and created a new one`,
    );
  }

  const held = record.cached_available_models ?? undefined;
  // What we last wrote. A status from before this field existed: a record already holding our value needs no write.
  const lastCached =
    status.appCachedAvailableModels ?? (wantCached != null && wantCached === held ? held : undefined);
  const writeCached = wantCached != null && wantCached !== lastCached;
  const cachedField = writeCached ? { cached_available_models: wantCached } : {};
  const drift = fieldDrift(managed, record);
  const drifted = Object.keys(drift).length > 0;
  const newCredential = status.credentialFingerprint !== fingerprint;
  const seen = record.updated_at ?? undefined;
  const changedInApp =
    status.appUpdatedTime !== undefined &&
    seen !== status.appUpdatedTime &&
    (status.appRefreshedTime === undefined || seen !== status.appRefreshedTime);
  const wrote = {
    appCachedAvailableModels: writeCached ? wantCached : lastCached,
    appRefreshedTime: undefined,
  };

  if (changedInApp) {
    const appRefresh = !drifted && status.appRefreshedTime === undefined && held !== lastCached;
    if (!appRefresh) {
      return {
        action: {
          kind: "update",
          id: record.id,
          fields: { ...managed, ...cachedField },
          pushSecrets: true,
        },
        events: [normal("DriftCorrected", `app connection ${record.id} was changed in the app; restored it`)],
        status: wrote,
      };
    }
    if (!writeCached && !newCredential) {
      return {
        action: { kind: "none" },
        events: [],
        status: { appCachedAvailableModels: lastCached, appRefreshedTime: seen },
      };
    }
  }
  if (!drifted && !newCredential && !writeCached) {
    return { action: { kind: "none" }, events: [], status: { appCachedAvailableModels: lastCached } };
  }
  const fields = { ...drift, ...cachedField };
  const names = Object.keys(fields).join(", ");
  return {
    action: { kind: "update", id: record.id, fields, pushSecrets: newCredential },
    events: names ? [normal("Updated", `updated ${names} of app connection ${record.id}`)] : [],
    status: wrote,
  };
}

function normal(reason: string, message: string): PlannedEvent {
  return { type: "Normal", reason, message };
}
