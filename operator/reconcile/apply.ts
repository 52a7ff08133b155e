// Carries out a plan: the finalizer, the app write, events. Each effect is idempotent and safe to repeat.
import type { ProviderConnection } from "../../crds/index.ts";
import type { AppRecordView } from "./app-fields.ts";
import type { Credentials } from "./credentials.ts";
import { connectionFinalizer } from "./finalizer.ts";
import type { AppWriteFields, ConnectionDeps, OrganizationSession } from "./ports.ts";
import type { ConnectionPlan } from "./types.ts";

/** What the effects produced that status must record. */
export interface ApplyResult {
  record?: AppRecordView;
  wroteApp: boolean;
  removedFinalizer: boolean;
  addedFinalizer: boolean;
  /**
   * The plan's Events, recorded one after another while the caller writes status (Events are informational: the
   * status write need not wait for them); settles when they are recorded.
   */
  recording?: Promise<void>;
}

/**
 * Applies `plan`. Guarantees: the app write happens before the finalizer is removed, so a crash in between
 * retries the delete (a 404 counts as deleted); a crash after a create and before the status write is healed
 * by adoption in the next observe. Events start after every other effect.
 */
export async function applyPlan(
  connection: ProviderConnection,
  plan: ConnectionPlan,
  session: OrganizationSession | undefined,
  credentials: Credentials,
  deps: ConnectionDeps,
): Promise<ApplyResult> {
  if (plan.finalizer === "add") {
    await deps.kube.patchMetadata(connection, { finalizers: connectionFinalizer.added(connection) });
    return { wroteApp: false, removedFinalizer: false, addedFinalizer: true };
  }
  const result: ApplyResult = { wroteApp: false, removedFinalizer: false, addedFinalizer: false };
  if (plan.app.kind !== "none") {
    if (session?.kind !== "Ready")
      throw new Error("internal: an app action was planned without an organization session");
    const app = session.app;
    switch (plan.app.kind) {
      case "create":
        result.record = await app.create({ ...plan.app.fields, ...secretFields(connection, credentials) });
        break;
      case "update":
        result.record = await app.update(plan.app.id, {
          ...plan.app.fields,
          ...(plan.app.pushSecrets ? secretFields(connection, credentials) : {}),
        });
        break;
      case "delete":
        await app.remove(plan.app.id);
        break;
    }
    result.wroteApp = true;
  }
  if (plan.finalizer === "remove") {
    await deps.kube.patchMetadata(connection, { finalizers: connectionFinalizer.removed(connection) });
    result.removedFinalizer = true;
  }
  if (plan.events.length > 0)
    result.recording = (async () => {
      for (const event of plan.events) await deps.kube.event(connection, event);
    })();
  return result;
}

/** The write-only fields of the connection's provider; a slot without a Secret clears the app's value. */
export function secretFields(connection: ProviderConnection, credentials: Credentials): AppWriteFields {
  switch (connection.spec.provider) {
    case "VertexAI":
      return { google_application_credentials: credentials.credentialsJson ?? null };
    case "Custom":
      return { api_key: credentials.apiKey ?? null, auth_token: credentials.authToken ?? null };
    default:
      return { api_key: credentials.apiKey ?? null };
  }
}
