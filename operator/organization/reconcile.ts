// One Organization reconcile: ask the app who the token is, and say in status whether connections can sync.
import { isDeepStrictEqual } from "node:util";
import type { Organization, OrganizationStatus } from "../../crds/index.ts";
import { CONDITION, REASON } from "../constants.ts";
import { applyConditions } from "../reconcile/conditions.ts";
import { describeFailure } from "../reconcile/index.ts";
import type { OrganizationSessions } from "./sessions.ts";

export interface OrganizationDeps {
  now(): Date;
  getOrganization(namespace: string, name: string): Promise<Organization | undefined>;
  sessions: OrganizationSessions;
  patchStatus(organization: Organization, status: Record<string, unknown>): Promise<unknown>;
  event(
    organization: Organization,
    event: { type: "Normal" | "Warning"; reason: string; message: string },
  ): Promise<void>;
}

/**
 * Reconciles the Organization `namespace/name`: a fresh whoami, then status (organization id, Ready with the
 * reason of a bad token or role). Status is written only when it changes. Transient app failures are thrown.
 */
export async function reconcileOrganization(
  namespace: string,
  name: string,
  deps: OrganizationDeps,
): Promise<void> {
  const organization = await deps.getOrganization(namespace, name);
  if (!organization) {
    deps.sessions.forget(namespace, name);
    return;
  }
  let status: OrganizationStatus;
  const current = organization.status ?? {};
  const generation = organization.metadata.generation;
  try {
    const session = await deps.sessions.session(organization, true);
    status =
      session.kind === "Ready"
        ? {
            ...current,
            observedGeneration: generation,
            organizationId: session.organizationId,
            ...(session.tokenKind ? { tokenKind: session.tokenKind } : {}),
            conditions: applyConditions(
              current.conditions,
              [
                {
                  type: CONDITION.Ready,
                  status: "True",
                  reason: REASON.Synced,
                  message: `the token reaches organization ${session.organizationId}`,
                },
              ],
              generation,
              deps.now(),
            ),
          }
        : {
            ...current,
            observedGeneration: generation,
            conditions: applyConditions(
              current.conditions,
              [{ type: CONDITION.Ready, status: "False", reason: session.reason, message: session.message }],
              generation,
              deps.now(),
            ),
          };
  } catch (error) {
    const failure = describeFailure(error);
    status = {
      ...current,
      observedGeneration: generation,
      conditions: applyConditions(
        current.conditions,
        [{ type: CONDITION.Ready, status: "False", reason: failure.reason, message: failure.message }],
        generation,
        deps.now(),
      ),
    };
    await writeIfChanged(organization, status, deps);
    throw error;
  }
  await writeIfChanged(organization, status, deps);
}

async function writeIfChanged(
  organization: Organization,
  status: OrganizationStatus,
  deps: OrganizationDeps,
): Promise<void> {
  if (isDeepStrictEqual(organization.status ?? {}, status)) return;
  await deps.patchStatus(organization, status as Record<string, unknown>);
  const before = organization.status?.conditions?.find((c) => c.type === CONDITION.Ready);
  const after = status.conditions?.find((c) => c.type === CONDITION.Ready);
  if (after && (before?.status !== after.status || before?.reason !== after.reason)) {
    await deps.event(organization, {
      type: after.status === "True" ? "Normal" : "Warning",
      reason: after.reason,
      message: after.message ?? "",
    });
  }
}
