// Reads everything a connection's plan needs: caches, its Secret (as a fingerprint), the app, the provider.
import { type ProviderConnection, scopeOf } from "../../crds/index.ts";
import { ANNOTATIONS, CONDITION, REASON } from "../constants.ts";
import { desiredFields } from "./app-fields.ts";
import { type Credentials, credentialRefs, fingerprint } from "./credentials.ts";
import { connectionFinalizer } from "./finalizer.ts";
import { modelCheckRequest } from "./model-check-request.ts";
import { backoffMs, jitteredRefreshMs, modelCheckDue } from "./model-schedule.ts";
import { siblingsOf, winnerOf } from "./one-per-organization.ts";
import type { ConnectionDeps, OrganizationSession } from "./ports.ts";
import { isRotation, rotationPolicyOf, withinRotationWait } from "./rotation.ts";
import { checkSecretValue, type SecretValueKind } from "./secret-values.ts";
import type { AppView, CredentialView, ObservedConnection } from "./types.ts";

/** What observing yields: the plan's input, plus what `apply` needs and the plan must not see. */
export interface Observation {
  observed: ObservedConnection;
  session: OrganizationSession | undefined;
  credentials: Credentials;
}

/**
 * Observes one connection: the caches, the referenced Secrets, the app's record, and — when due — the provider
 * (a model check is a read of the world, so it belongs here and the plan stays pure). Only reads: a provisioned
 * Azure connection reads what its AzureOpenAIAccount's reconciler made (status and key Secret) through `deps`.
 */
export async function observeConnection(
  connection: ProviderConnection,
  deps: ConnectionDeps,
): Promise<Observation> {
  const now = deps.now();
  const { namespace } = connection.metadata;
  const organizationObject = deps.organization(namespace, connection.spec.organizationRef.name);
  const session: OrganizationSession | undefined = organizationObject
    ? await deps.session(organizationObject)
    : undefined;
  const organization: ObservedConnection["organization"] = session
    ? session.kind === "Ready"
      ? {
          kind: "Ready",
          organization: session.organization,
          organizationId: session.organizationId,
          userId: session.userId,
        }
      : session
    : {
        kind: "NotReady",
        reason: REASON.OrganizationNotFound,
        message: `Organization ${connection.spec.organizationRef.name} not found in namespace ${namespace}`,
      };

  const deleting = connectionFinalizer.deleting(connection);
  const hasFinalizer = connectionFinalizer.present(connection);
  // Only once the finalizer is on: a deployment made for the connection must always be waited for at deletion.
  const provision =
    !deleting && connection.spec.azure?.provision && deps.provision && hasFinalizer
      ? await deps.provision(connection)
      : undefined;
  const provisioned =
    provision?.kind === "Ready"
      ? { deployment: provision.deployment, endpoint: provision.endpoint }
      : undefined;
  const { credentials, view: credential } = await readCredentials(
    connection,
    deps,
    provision?.kind === "Ready" ? provision.secretName : undefined,
  );
  if (provision?.kind === "Pending" && credential.kind === "Missing") {
    // A failed provisioning says why (ProvisionFailed and its message), not just that it waits.
    const failed = provision.conditions.find((c) => c.type === CONDITION.Provisioned && c.status === "False");
    credential.reason = failed?.reason ?? REASON.Provisioning;
    credential.message = failed?.message ?? "waiting for the Azure OpenAI deployment to be provisioned";
  }
  // A deleting provisioned connection keeps its finalizer until what provisioning made is removed.
  const deprovision =
    deleting &&
    connection.spec.azure?.provision &&
    deps.deprovision &&
    hasFinalizer &&
    connection.metadata.annotations?.[ANNOTATIONS.releaseFinalizer] !== "true"
      ? await deps.deprovision(connection)
      : undefined;

  const siblings = siblingsOf(connection, deps.peers.rivals(connection));
  const egressDenied = deleting ? undefined : await endpointRefusal(connection, provisioned, deps);
  // A connection that loses the one-per-organization rule, or whose endpoint the guard refuses, neither reads
  // the app nor checks the provider.
  const idle =
    (!deleting && winnerOf(connection, siblings) !== connection.metadata.name) || egressDenied !== undefined;
  const app = idle
    ? ({ kind: "NotRead" } as const)
    : await readApp(connection, session, deleting, provisioned);

  let modelCheck: ObservedConnection["modelCheck"];
  let nextModelCheckInMs: number | undefined;
  if (!deleting && !idle && hasFinalizer && credential.kind === "Ready" && organization.kind === "Ready") {
    const uid = connection.metadata.uid ?? `${namespace}/${connection.metadata.name}`;
    const scheduled = modelCheckDue(
      connection,
      credential.fingerprint,
      now,
      deps.checkFailures.get(uid),
      deps.checkBackoff,
    );
    // A hold that no longer applies (the Secret went back to the app's key) needs a fresh check to clear it.
    const held = connection.status?.heldCredentialFingerprint;
    const due =
      !scheduled.due && held !== undefined && held !== credential.fingerprint
        ? ({ due: true, why: "released" } as const)
        : scheduled;
    const rotation = due.due && due.why === "credential" && isRotation(connection, credential.fingerprint);
    if (rotation && rotationPolicyOf(connection) === "Immediate") {
      // Immediate: the key goes to the app first and is checked in the very next reconcile (due as "rotated").
      nextModelCheckInMs = 0;
    } else if (rotation && held === credential.fingerprint) {
      // Verify, and this key was already rejected: it waits on a person (a new value, a refresh request, or
      // Immediate), not on the provider; the plan keeps holding it without asking again.
    } else if (due.due) {
      // Verify checks a rotation here, before the plan may push it (a rejected key is held there); a provider
      // slower than ROTATION_CHECK_WAIT_MS counts as one that cannot answer, and never holds the push.
      const check = deps.checkModels(modelCheckRequest(connection, credentials, provisioned));
      modelCheck = rotation ? await withinRotationWait(check) : await check;
      if (modelCheck.outcome === "RateLimited" || modelCheck.outcome === "Unavailable") {
        const previous = deps.checkFailures.get(uid);
        deps.checkFailures.set(uid, {
          count: (previous?.count ?? 0) + 1,
          // From the provider's answer, not the reconcile's start: the reads before the check vary, and
          // Retry-After counts from the answer; so requests never come closer than a step.
          lastAttempt: deps.now(),
          retryAfterMs: modelCheck.retryAfterMs,
        });
      } else {
        deps.checkFailures.delete(uid);
      }
      const failures = deps.checkFailures.get(uid);
      nextModelCheckInMs = failures ? backoffMs(failures, deps.checkBackoff) : jitteredRefreshMs(connection);
    } else {
      nextModelCheckInMs = due.nextInMs;
    }
  }

  return {
    session,
    credentials,
    observed: {
      connection,
      now,
      organization,
      credential,
      siblings,
      claimedIds: { has: (id) => deps.peers.heldByOther(connection, id) },
      app,
      modelCheck,
      provisioned,
      nextModelCheckInMs: provision?.kind === "Pending" ? provision.requeueAfterMs : nextModelCheckInMs,
      extraConditions: provision?.conditions,
      azureStatus: provision?.azureStatus,
      deprovision,
      egressDenied,
    },
  };
}

/** Where each provider's endpoint is written in the spec, for messages. */
const ENDPOINT_FIELD: Partial<Record<ProviderConnection["spec"]["provider"], string>> = {
  Custom: "spec.custom.endpoint",
  AzureOpenAI: "spec.azure.endpoint",
  AzureAIFoundry: "spec.azureAIFoundry.endpoint",
};

/** Why the endpoint the app would be given is refused (the same rules as the provider check), if it is. */
async function endpointRefusal(
  connection: ProviderConnection,
  provisioned: { deployment: string; endpoint: string } | undefined,
  deps: ConnectionDeps,
): Promise<string | undefined> {
  const { endpoint } = desiredFields(connection.spec, provisioned);
  if (!endpoint || !deps.endpointRefusal) return undefined;
  const custom = connection.spec.provider === "Custom";
  const why = await deps.endpointRefusal(endpoint, custom);
  if (why === undefined) return undefined;
  const field = provisioned
    ? "the provisioned endpoint"
    : (ENDPOINT_FIELD[connection.spec.provider] ?? "the endpoint");
  return `${field} is refused by the egress guard (${why}); it is neither checked nor written to the app`;
}

/** Which rules each credential slot's value follows. */
const SLOT_KINDS: Record<keyof Credentials, SecretValueKind> = {
  apiKey: "apiKey",
  authToken: "authToken",
  credentialsJson: "serviceAccountJson",
};

/** Reads, trims and checks each referenced Secret value; an invalid one is terminal (InvalidSecretValue). */
async function readCredentials(
  connection: ProviderConnection,
  deps: ConnectionDeps,
  provisionedSecretName: string | undefined,
): Promise<{ credentials: Credentials; view: CredentialView }> {
  const refs = credentialRefs(connection.spec, provisionedSecretName);
  const credentials: Credentials = {};
  const secrets = new Map<string, Record<string, string> | undefined>();
  for (const [slot, ref] of Object.entries(refs) as [keyof Credentials, (typeof refs)[keyof Credentials]][]) {
    if (!ref) continue;
    if (!secrets.has(ref.name))
      secrets.set(ref.name, await deps.readSecret(connection.metadata.namespace, ref.name));
    const data = secrets.get(ref.name);
    if (data === undefined) {
      return {
        credentials: {},
        view: { kind: "Missing", reason: REASON.SecretNotFound, message: `Secret ${ref.name} not found` },
      };
    }
    const value = data[ref.key];
    if (value === undefined || value === "") {
      return {
        credentials: {},
        view: {
          kind: "Missing",
          reason: REASON.SecretKeyMissing,
          message: `Secret ${ref.name} has no key ${ref.key}`,
        },
      };
    }
    const checked = checkSecretValue(SLOT_KINDS[slot], value, { secret: ref.name, key: ref.key });
    if (!checked.ok) {
      return {
        credentials: {},
        view: { kind: "Missing", reason: REASON.InvalidSecretValue, message: checked.message },
      };
    }
    credentials[slot] = checked.value;
  }
  if (Object.keys(refs).length === 0 && connection.spec.azure?.provision) {
    return {
      credentials,
      view: { kind: "Missing", reason: REASON.Provisioning, message: "waiting for provisioning" },
    };
  }
  return { credentials, view: { kind: "Ready", fingerprint: fingerprint(credentials) } };
}

/**
 * Reads the record by id when status has one; when it has none, the listed records that may match it (adoption,
 * a deletion's leftover): the plan matches them against the same fields.
 */
async function readApp(
  connection: ProviderConnection,
  session: OrganizationSession | undefined,
  deleting: boolean,
  provisioned: { deployment: string; endpoint: string } | undefined,
): Promise<AppView> {
  if (session?.kind !== "Ready") return { kind: "NotRead" };
  const id = connection.status?.appConnectionId;
  if (id !== undefined) return { kind: "ById", record: await session.app.get(id, { fresh: deleting }) };
  // A deleting connection without an id may still have a record (a create whose status write was lost).
  if (deleting && connection.spec.deletionPolicy === "Orphan") return { kind: "NotRead" };
  // The shared listing serves per-model adoption at scale; an organization-wide provider (one record per
  // organization) and a deletion's search for a leftover read the app afresh, so a record made since is found.
  const fresh = deleting || scopeOf(connection.spec.provider) === "Organization";
  const matching = desiredFields(connection.spec, provisioned);
  return { kind: "Listed", records: await session.app.list({ fresh, matching }) };
}
