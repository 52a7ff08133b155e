// A restored checkpoint's interrupted creates: a process killed while a create ran leaves it "pending",
// and nobody knows whether the resource came to exist. Resources with a name fixed by the program are
// adopted by their id (the refresh before the update then keeps or drops them); the rest are cleared.

/** A resource as the checkpoint records it (only what is read here). */
export interface CheckpointResource {
  urn: string;
  type: string;
  inputs?: Record<string, unknown>;
  id?: string;
  [field: string]: unknown;
}

/** The provider id a pending create's resource has if the create did land; undefined when unknowable. */
export type PendingCreateId = (resource: CheckpointResource) => string | undefined;

/** What {@link settlePendingCreates} did. */
export interface SettledCreates {
  deployment: unknown;
  /** URNs recorded as existing with their expected id, for the refresh to confirm or drop. */
  adopted: string[];
  /** URNs dropped from the state (as `pulumi refresh --clear-pending-creates`): the update creates them. */
  cleared: string[];
}

interface PendingOperation {
  resource: CheckpointResource;
  type: string;
}

/**
 * Resolves the "creating" pending operations of an exported deployment, as Pulumi's
 * `refresh --import-pending-creates` / `--clear-pending-creates` do: a resource whose id `idOf` knows is
 * moved into the resources with that id (a refresh then reads it: kept if it exists, dropped if not, so the
 * update creates it only when missing); the others are dropped. Other pending operations (updating,
 * deleting) are left for the refresh, which resolves them itself.
 */
export function settlePendingCreates(deployment: unknown, idOf: PendingCreateId): SettledCreates {
  const d = deployment as { resources?: CheckpointResource[]; pending_operations?: PendingOperation[] };
  const pending = d?.pending_operations ?? [];
  const creating = pending.filter((op) => op.type === "creating");
  if (creating.length === 0) return { deployment, adopted: [], cleared: [] };
  const adopted: CheckpointResource[] = [];
  const cleared: string[] = [];
  for (const op of creating) {
    const id = idOf(op.resource);
    if (id) adopted.push({ ...op.resource, id });
    else cleared.push(op.resource.urn);
  }
  const rest = pending.filter((op) => op.type !== "creating");
  const { pending_operations: _, ...others } = d;
  return {
    deployment: {
      ...others,
      resources: [...(d.resources ?? []), ...adopted],
      ...(rest.length > 0 ? { pending_operations: rest } : {}),
    },
    adopted: adopted.map((r) => r.urn),
    cleared,
  };
}

const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/**
 * The ARM ids of the component's resources (resource group, account, deployment), whose names the program
 * fixes; `subscriptionId` is the credentials'. Other types: undefined.
 */
export function armPendingCreateIds(subscriptionId: string): PendingCreateId {
  return (resource) => {
    const inputs = resource.inputs ?? {};
    const group = str(inputs.resourceGroupName);
    if (!group) return undefined;
    const groupId = `/subscriptions/${subscriptionId}/resourceGroups/${group}`;
    if (resource.type === "azure-native:resources:ResourceGroup") return groupId;
    const account = str(inputs.accountName);
    if (!account) return undefined;
    const accountId = `${groupId}/providers/Microsoft.CognitiveServices/accounts/${account}`;
    if (resource.type === "azure-native:cognitiveservices:Account") return accountId;
    const deployment = str(inputs.deploymentName);
    if (resource.type === "azure-native:cognitiveservices:Deployment" && deployment) {
      return `${accountId}/deployments/${deployment}`;
    }
    return undefined;
  };
}
