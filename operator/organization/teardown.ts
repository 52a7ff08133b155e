// An Organization's deletion: it waits for the connections that reference it to clean up the app, and its token
// Secret stays while any Organization still needs the token. Pure decisions; reconcile.ts carries them out.
import type { Organization } from "../../crds/index.ts";
import { ANNOTATIONS } from "../constants.ts";

/** A connection as the teardown sees it: which Organization it references. */
export interface ConnectionRef {
  name: string;
  organization: string;
}

/** What a deleting Organization does now. */
export type Teardown =
  | { kind: "Wait"; connections: string[]; message: string }
  | { kind: "Finish"; releaseToken: boolean };

/**
 * Decides a deleting Organization's step.
 *
 * Guarantees: the Organization's finalizer goes only once no connection references it (or the release annotation
 * says not to wait); the token Secret is released only when no other Organization in the namespace still needs
 * it: one that is not deleting, or one still waiting for its own connections.
 */
export function organizationTeardown(
  organization: Organization,
  connections: readonly ConnectionRef[],
  organizations: readonly Organization[],
): Teardown {
  const { name } = organization.metadata;
  const waiting = connections
    .filter((c) => c.organization === name)
    .map((c) => c.name)
    .sort();
  const released = organization.metadata.annotations?.[ANNOTATIONS.releaseFinalizer] === "true";
  if (waiting.length > 0 && !released) {
    const shown = waiting.length > 10 ? `${waiting.slice(0, 10).join(", ")}, …` : waiting.join(", ");
    return {
      kind: "Wait",
      connections: waiting,
      message: `waiting for ${waiting.length} ProviderConnection(s) to remove their app connections: ${shown}; to stop waiting, annotate ${ANNOTATIONS.releaseFinalizer}=true`,
    };
  }
  const secret = organization.spec.tokenSecretRef.name;
  const stillNeeded = organizations.some(
    (other) =>
      other.metadata.name !== name &&
      other.spec.tokenSecretRef.name === secret &&
      (!other.metadata.deletionTimestamp || connections.some((c) => c.organization === other.metadata.name)),
  );
  return { kind: "Finish", releaseToken: !stillNeeded };
}
