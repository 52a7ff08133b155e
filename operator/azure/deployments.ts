// Which deployments an account's stack should hold: one per ProviderConnection that references the account,
// decided from the connections alone (a pure function, so the rules are tables in the tests).
import type { ProviderConnection } from "../../crds/index.ts";
// The shared schema (zod only): importing pulumi/args.ts would load @pulumi/pulumi with the operator.
import { Deployment } from "../../pulumi/account-schema.ts";

/** One deployment of the stack, and the connection that wants it; `retainOnDelete` with deletionPolicy Orphan. */
export type StackDeployment = Deployment & { retainOnDelete: boolean };

/** What the account's stack should hold, and the connections refused a deployment (with why). */
export interface WantedDeployments {
  /** Sorted by name. */
  deployments: StackDeployment[];
  /** Deployment name → the connection (its name) that owns it. */
  owners: Map<string, string>;
  /** Deployments on their way out, to show in status until the update that removes them ends. */
  leaving: { deployment: StackDeployment; connection: string }[];
  /** Connection name → why it gets no deployment (terminal until something changes). */
  refused: Map<string, string>;
}

/** The deployment name a connection asks for: `deployment.name`, else the connection's name. */
export function deploymentNameOf(connection: ProviderConnection): string {
  return connection.spec.azure?.provision?.deployment.name ?? connection.metadata.name;
}

/** Oldest first; ties by name, so every reconcile orders the same way. */
function byAge(a: ProviderConnection, b: ProviderConnection): number {
  return (
    (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

function deploymentOf(connection: ProviderConnection): StackDeployment | string {
  const block = connection.spec.azure?.provision?.deployment;
  if (!block) return "spec.azure.provision.deployment is missing";
  const parsed = Deployment.safeParse({
    name: deploymentNameOf(connection),
    model: block.model,
    version: block.version,
    ...(block.sku ? { sku: block.sku } : {}),
    ...(block.versionUpgradeOption ? { versionUpgradeOption: block.versionUpgradeOption } : {}),
  });
  if (!parsed.success) {
    return parsed.error.issues
      .map((i) => `spec.azure.provision.deployment.${i.path.join(".")}: ${i.message}`)
      .join("; ");
  }
  return { ...parsed.data, retainOnDelete: connection.spec.deletionPolicy === "Orphan" };
}

/**
 * The deployments of an account's stack, from the connections that reference it (`connections`, one
 * namespace) and the deployments of the last update this process made (`applied`, undefined when none).
 *
 * Rules: walked oldest first, each connection gets its deployment unless its deployment block is invalid
 * or its deployment name (case-insensitive) is taken by an older one (refused, naming it). A live connection's
 * deployment is kept (retained in Azure on removal when its deletionPolicy is Orphan). A deleting connection's
 * deployment leaves: with Delete at once (Pulumi deletes it); with Orphan only once the applied stack has
 * recorded it as retained (Pulumi keeps a resource that leaves the program only when its state says so): it
 * stays while the last update applied it without the mark, or when this process applied none yet.
 */
export function wantedDeployments(
  connections: readonly ProviderConnection[],
  applied: readonly StackDeployment[] | undefined,
): WantedDeployments {
  const deployments: StackDeployment[] = [];
  const owners = new Map<string, string>();
  const leaving: WantedDeployments["leaving"] = [];
  const refused = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const connection of [...connections].sort(byAge)) {
    const name = connection.metadata.name;
    const deployment = deploymentOf(connection);
    if (typeof deployment === "string") {
      refused.set(name, `invalid deployment: ${deployment}`);
      continue;
    }
    const holder = taken.get(deployment.name.toLowerCase());
    if (holder !== undefined) {
      refused.set(
        name,
        `deployment name "${deployment.name}" is taken by ProviderConnection ${holder}; set spec.azure.provision.deployment.name`,
      );
      continue;
    }
    taken.set(deployment.name.toLowerCase(), name);
    const deleting = connection.metadata.deletionTimestamp !== undefined;
    // Once released (applied without it), a deleting Orphan connection's deployment never comes back.
    const unmarked =
      applied === undefined || applied.some((d) => d.name === deployment.name && !d.retainOnDelete);
    if (!deleting || (deployment.retainOnDelete && unmarked)) {
      deployments.push(deployment);
      owners.set(deployment.name, name);
    } else {
      leaving.push({ deployment, connection: name });
    }
  }
  deployments.sort((a, b) => a.name.localeCompare(b.name));
  return { deployments, owners, leaving, refused };
}
