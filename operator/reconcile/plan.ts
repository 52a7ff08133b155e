// The rules of a ProviderConnection: a pure function from what was observed to what to do.
import { isOffLimits, offLimitsReason } from "../app/off-limits.ts";
import { ANNOTATIONS, CONDITION, REASON, type Reason } from "../constants.ts";
import { desiredFields, recordMatches } from "./app-fields.ts";
import { applyConditions, type ConditionIntent } from "./conditions.ts";
import { connectionFinalizer } from "./finalizer.ts";
import { planKeyAge } from "./key-age.ts";
import { modelConditions } from "./model-conditions.ts";
import { winnerOf } from "./one-per-organization.ts";
import { eventTypeFor } from "./progress.ts";
import { planRecordSync, type RecordSync } from "./record-sync.ts";
import { heldRotation } from "./rotation.ts";
import type { AppAction, ConnectionPlan, ObservedConnection, PlannedEvent } from "./types.ts";

/**
 * Decides finalizer, app action, conditions, status fields and events for one connection.
 *
 * Guarantees: no I/O, no clock (time comes in `observed.now`), no randomness; the same input gives the same plan.
 * Secret values never reach it: a credential is only its fingerprint.
 */
export function planConnection(observed: ObservedConnection): ConnectionPlan {
  const { connection } = observed;
  const hasFinalizer = connectionFinalizer.present(connection);
  if (connectionFinalizer.deleting(connection))
    return hasFinalizer ? holdForDeprovision(observed, planDeletion(observed)) : idle();
  if (!hasFinalizer) return { ...idle(), finalizer: "add" };
  const plan = planLive(observed);
  return observed.azureStatus ? { ...plan, status: { ...plan.status, azure: observed.azureStatus } } : plan;
}

/**
 * A deleting provisioned connection keeps its finalizer (and says why) until provisioning has removed what it
 * made; the app's record is still deleted first, so the app stops using the deployment before it goes.
 */
function holdForDeprovision(observed: ObservedConnection, plan: ConnectionPlan): ConnectionPlan {
  const pending = observed.deprovision;
  const released = observed.connection.metadata.annotations?.[ANNOTATIONS.releaseFinalizer] === "true";
  if (pending?.kind !== "Pending" || plan.finalizer !== "remove" || released) return plan;
  return {
    ...plan,
    finalizer: "keep",
    conditions: [...plan.conditions, ...pending.conditions],
    // An event per step, not per reconcile while waiting (an Orphaned event follows when the finalizer goes).
    events: plan.app.kind === "none" ? [] : plan.events,
    requeueAfterMs: pending.requeueAfterMs,
  };
}

function planLive(observed: ObservedConnection): ConnectionPlan {
  const { connection, organization, credential } = observed;
  if (organization.kind !== "Ready") return blocked(observed, organization.reason, organization.message);
  if (credential.kind !== "Ready") return blocked(observed, credential.reason, credential.message);
  if (observed.egressDenied !== undefined)
    return blocked(observed, REASON.EgressDenied, observed.egressDenied);

  const winner = winnerOf(connection, observed.siblings);
  if (winner !== connection.metadata.name) {
    return blocked(
      observed,
      REASON.DuplicateProvider,
      `organization ${connection.spec.organizationRef.name} already has a ${connection.spec.provider} connection: ProviderConnection "${winner}" is older and holds it; this one takes over if that one is deleted`,
    );
  }
  return planSync(observed, organization.userId, organization.organization.spec.adoptExisting ?? false);
}

function idle(): ConnectionPlan {
  return { finalizer: "keep", app: { kind: "none" }, conditions: [], status: {}, events: [] };
}

function planDeletion(observed: ObservedConnection): ConnectionPlan {
  const { connection, organization, app } = observed;
  const id = connection.status?.appConnectionId;
  const base: ConnectionPlan = { ...idle(), finalizer: "remove" };
  if (connection.metadata.annotations?.[ANNOTATIONS.releaseFinalizer] === "true") {
    const left = id === undefined ? "" : `; app connection ${id} was left in place`;
    return { ...base, events: [warning("FinalizerReleased", `released by annotation${left}`)] };
  }
  if (id === undefined) {
    const leftover = leftoverRecord(observed);
    return leftover === undefined
      ? base
      : {
          ...base,
          app: { kind: "delete", id: leftover },
          events: [
            normal(
              "Deleted",
              `deleted app connection ${leftover}, made for this connection before its status recorded it`,
            ),
          ],
        };
  }
  if (connection.spec.deletionPolicy === "Orphan") {
    return {
      ...base,
      events: [normal("Orphaned", `app connection ${id} left in the app (deletionPolicy Orphan)`)],
    };
  }
  if (organization.kind !== "Ready") {
    const message = `cannot delete app connection ${id}: ${organization.message}; to release the connection without deleting it, annotate ${ANNOTATIONS.releaseFinalizer}=true`;
    return {
      ...idle(),
      conditions: [
        { type: CONDITION.Ready, status: "False", reason: organization.reason, message },
        { type: CONDITION.AppSynced, status: "False", reason: organization.reason, message },
      ],
      events: readyReasonChanged(observed, organization.reason)
        ? [warning(organization.reason, message)]
        : [],
    };
  }
  if (app.kind === "ById" && app.record === undefined) {
    return { ...base, events: [normal("Deleted", `app connection ${id} was already gone`)] };
  }
  const notOurs = app.kind === "ById" && app.record ? offLimitsReason(app.record) : undefined;
  if (notOurs) {
    return { ...base, events: [normal("Orphaned", `app connection ${id} left in the app: ${notOurs}`)] };
  }
  return {
    ...base,
    app: { kind: "delete", id },
    events: [normal("Deleted", `deleted app connection ${id}`)],
  };
}

/**
 * The record a deleting connection without an id would have adopted: matching, made by the operator's user and
 * held by no other connection. Deleting it keeps a create whose status write was lost from leaking a record.
 */
function leftoverRecord(observed: ObservedConnection): number | undefined {
  const { connection, organization, app } = observed;
  if (connection.spec.deletionPolicy === "Orphan" || organization.kind !== "Ready" || app.kind !== "Listed")
    return undefined;
  const desired = desiredFields(connection.spec);
  const claimed = observed.claimedIds ?? NONE_CLAIMED;
  return app.records
    .filter(
      (r) =>
        !isOffLimits(r) &&
        !claimed.has(r.id) &&
        r.created_by?.id === organization.userId &&
        recordMatches(desired, r),
    )
    .sort((a, b) => a.id - b.id)[0]?.id;
}

/** Not synced, for a reason that waits for a change (the runtime requeues at the resync). */
function blocked(observed: ObservedConnection, reason: Reason, message: string): ConnectionPlan {
  return {
    ...idle(),
    conditions: [
      { type: CONDITION.Ready, status: "False", reason, message },
      { type: CONDITION.AppSynced, status: "False", reason, message },
      ...(observed.extraConditions ?? []),
    ],
    status: {
      organizationId:
        observed.organization.kind === "Ready"
          ? observed.organization.organizationId
          : observed.connection.status?.organizationId,
    },
    events: readyReasonChanged(observed, reason) ? [notReadyEvent(reason, message)] : [],
  };
}

function planSync(
  observed: ObservedConnection,
  operatorUserId: number,
  adoptExisting: boolean,
): ConnectionPlan {
  const { connection, credential, app, modelCheck, now } = observed;
  const status = connection.status ?? {};
  const current = credential.kind === "Ready" ? credential.fingerprint : "";
  // A rotation the provider rejected stays out of the app (rotationPolicy Verify): the plan goes on with the
  // credential the app holds. A record to create, or a key re-pushed on request, takes the current one.
  const syncRequest = connection.metadata.annotations?.[ANNOTATIONS.syncRequestedAt];
  const syncRequested = syncRequest !== undefined && syncRequest !== status.syncRequestedAt;
  const holding =
    app.kind === "ById" && app.record !== undefined && !isOffLimits(app.record) && !syncRequested;
  const held = holding ? heldRotation(connection, current, modelCheck) : undefined;
  const fingerprint = held ? (status.credentialFingerprint ?? current) : current;
  const transient = modelCheck?.outcome === "RateLimited" || modelCheck?.outcome === "Unavailable";
  // A provider that is down says nothing about the models: the last known result stays; so does a held key's.
  const models = modelCheck && !transient && !held ? modelCheck.models : status.models;
  const availableNames = models?.filter((m) => m.available).map((m) => m.name);
  const desired = desiredFields(connection.spec, observed.provisioned, availableNames);
  const rotated = status.credentialFingerprint !== undefined && status.credentialFingerprint !== fingerprint;
  const events: PlannedEvent[] = [];
  let action: AppAction = { kind: "none" };

  let recordStatus: RecordSync["status"] = {};
  if (app.kind === "ById") {
    const sync = planRecordSync(desired, app.record, status, fingerprint);
    // A restore of a record changed in the app cannot push the held key's predecessor (it is not in the Secret).
    action = held && sync.action.kind === "update" ? { ...sync.action, pushSecrets: false } : sync.action;
    events.push(...sync.events);
    recordStatus = sync.status;
  } else if (app.kind === "Listed") {
    const claimed = observed.claimedIds ?? NONE_CLAIMED;
    const candidates = app.records
      .filter((r) => !isOffLimits(r) && !claimed.has(r.id) && recordMatches(desired, r))
      .sort((a, b) => a.id - b.id);
    const existing = candidates[0];
    if (existing === undefined) {
      action = { kind: "create", fields: desired };
      events.push(normal("Created", `created ${connection.spec.provider} app connection`));
    } else {
      const ours = existing.created_by?.id === operatorUserId;
      if (desired.scope === "Organization" && !ours && !adoptExisting) {
        return blocked(
          observed,
          REASON.ExistsInApp,
          `the app already has a ${connection.spec.provider} connection (id ${existing.id}) made outside modelkeys; set spec.adoptExisting: true on Organization ${connection.spec.organizationRef.name} to adopt it`,
        );
      }
      action = { kind: "update", id: existing.id, fields: desired, pushSecrets: true };
      events.push(normal("Adopted", `adopted existing app connection ${existing.id}`));
    }
    recordStatus = {
      appCachedAvailableModels: desired.cached_available_models ?? undefined,
      appRefreshedTime: undefined,
    };
  }
  // An on-demand sync writes the record and its key again, even when nothing seems to differ (a key replaced in
  // the app cannot be read back, and an updated_at the app did not move would hide it).
  if (
    syncRequested &&
    app.kind === "ById" &&
    app.record !== undefined &&
    !isOffLimits(app.record) &&
    action.kind !== "create"
  ) {
    action = { kind: "update", id: app.record.id, fields: desired, pushSecrets: true };
    recordStatus = {
      ...recordStatus,
      appCachedAvailableModels: desired.cached_available_models ?? undefined,
    };
    events.push(
      normal("SyncRequested", `wrote app connection ${app.record.id} and its key again on request`),
    );
  }
  if (rotated && action.kind !== "none") {
    events.push(
      normal(
        "CredentialRotated",
        `credential ${fingerprint} pushed to the app (was ${status.credentialFingerprint})`,
      ),
    );
  }

  const checkConditions = held
    ? [held]
    : modelCheck
      ? modelConditions(connection.spec.provider === "Custom", modelCheck, connection.spec.models)
      : [];
  // One message whether or not this reconcile wrote: a message that says "just wrote" would change status
  // again on the next, idle reconcile (a second write, and a watch event, after every sync).
  const syncedMessage = "the app's connection matches the spec";
  const intents: ConditionIntent[] = [
    { type: CONDITION.AppSynced, status: "True", reason: REASON.Synced, message: syncedMessage },
    ...checkConditions,
    ...(observed.extraConditions ?? []),
  ];
  const merged = applyConditions(connection.status?.conditions, intents, undefined, now);
  // A credential that was never verified (the provider has not answered yet) is not Ready: there is no last
  // known result to stand on. Once one exists, a provider outage keeps Ready and the last known models.
  const unverified =
    models === undefined
      ? merged.find((c) => c.type === CONDITION.CredentialsValid && c.status === "Unknown")
      : undefined;
  // Reconciling and Stalled follow from Ready (progress.ts); they never decide it. KeyRotationDue never blocks
  // Ready (an old key still works); it is not among `intents` yet anyway.
  const blocking =
    merged.find(
      (c) => !SUMMARY_TYPES.has(c.type) && c.type !== CONDITION.KeyRotationDue && c.status === "False",
    ) ?? unverified;
  intents.unshift(
    blocking
      ? {
          type: CONDITION.Ready,
          status: "False",
          reason: blocking.reason as Reason,
          message: blocking.message ?? "",
        }
      : { type: CONDITION.Ready, status: "True", reason: REASON.Synced, message: readyMessage(models) },
  );
  if (blocking && readyReasonChanged(observed, blocking.reason as Reason)) {
    events.push(notReadyEvent(blocking.reason, blocking.message ?? ""));
  }
  for (const event of checkWarnings(observed, checkConditions)) {
    if (!events.some((e) => e.reason === event.reason)) events.push(event);
  }

  const rotatedTime =
    status.credentialFingerprint !== fingerprint ? now.toISOString() : status.credentialRotatedTime;
  const keyAge = planKeyAge(
    connection,
    observed.organization.kind === "Ready" ? observed.organization.organization : undefined,
    rotatedTime,
    now,
  );
  if (keyAge.condition) intents.push(keyAge.condition);
  if (keyAge.event) events.push(keyAge.event);

  const annotation = connection.metadata.annotations?.[ANNOTATIONS.refreshRequestedAt];
  const successfulCheck = modelCheck !== undefined && !transient && !held;
  return {
    finalizer: "keep",
    app: action,
    conditions: intents,
    status: {
      appConnectionId: action.kind === "update" ? action.id : status.appConnectionId,
      organizationId:
        observed.organization.kind === "Ready" ? observed.organization.organizationId : undefined,
      credentialFingerprint: fingerprint,
      credentialRotatedTime: rotatedTime,
      heldCredentialFingerprint: held ? current : undefined,
      ...(models ? { models, availableModels: models.filter((m) => m.available).length } : {}),
      ...(successfulCheck ? { modelsCheckedTime: now.toISOString() } : {}),
      // Any check, a transient failure too, was made for this generation (its retries follow the backoff).
      ...(modelCheck ? { modelsCheckedGeneration: connection.metadata.generation } : {}),
      ...(modelCheck && annotation !== undefined ? { refreshRequestedAt: annotation } : {}),
      ...recordStatus,
      ...(syncRequested && action.kind !== "none" ? { syncRequestedAt: syncRequest } : {}),
    },
    events,
    requeueAfterMs: earliest(observed.nextModelCheckInMs, keyAge.requeueAfterMs),
    ...(keyAge.condition ? {} : { dropConditions: [CONDITION.KeyRotationDue] }),
  };
}

function earliest(...delays: (number | undefined)[]): number | undefined {
  const defined = delays.filter((d): d is number => d !== undefined);
  return defined.length === 0 ? undefined : Math.min(...defined);
}

/** No record is held by another connection. */
const NONE_CLAIMED: { has(id: number): boolean } = { has: () => false };

const SUMMARY_TYPES = new Set<string>([CONDITION.Ready, CONDITION.Reconciling, CONDITION.Stalled]);

/** Check results worth a Warning even while Ready stays True (a provider down, rate limits, missing models). */
const WARN_REASONS = new Set<string>([REASON.RateLimited, REASON.ProviderUnavailable, REASON.ModelsMissing]);

/**
 * A Warning when the check's first bad condition (False, or one of WARN_REASONS) is new since the last status:
 * once per change, never again on the retries that keep it so. Only the first: the later ones follow from it
 * (a rejected key also leaves no model available).
 */
function checkWarnings(observed: ObservedConnection, intents: readonly ConditionIntent[]): PlannedEvent[] {
  const bad = intents.find((intent) => intent.status === "False" || WARN_REASONS.has(intent.reason));
  if (!bad) return [];
  const before = observed.connection.status?.conditions?.find((c) => c.type === bad.type);
  const changed = before?.status !== bad.status || before.reason !== bad.reason;
  return changed ? [warning(bad.reason, bad.message)] : [];
}

function readyMessage(models: readonly { available: boolean }[] | undefined): string {
  if (!models) return "synced to the app; models not checked yet";
  return `synced to the app; ${models.filter((m) => m.available).length} of ${models.length} supported models available`;
}

function readyReasonChanged(observed: ObservedConnection, reason: string): boolean {
  const ready = observed.connection.status?.conditions?.find((c) => c.type === CONDITION.Ready);
  return ready?.reason !== reason || ready.status !== "False";
}

function normal(reason: string, message: string): PlannedEvent {
  return { type: "Normal", reason, message };
}
/** Ready turning False: a Warning, or a Normal Event for a wait that is part of the plan (Provisioning). */
function notReadyEvent(reason: string, message: string): PlannedEvent {
  return { type: eventTypeFor(reason), reason, message };
}
function warning(reason: string, message: string): PlannedEvent {
  return { type: "Warning", reason, message };
}
