// Which ProviderConnections share an Azure account, and what the account's stack should hold: a pure function
// of the connections in the cache, so the aggregation rules are plain tables in the tests.
import type { ProviderConnection, ProviderConnectionSpec } from "../../crds/index.ts";
import { DeploymentSpec } from "../../pulumi/args.ts";
import type { AccountSpec, AzureAccountRef } from "./provisioner.ts";
import { stackNameFor } from "./stack-name.ts";

/** A connection's `spec.azure.provision`. */
export type ProvisionSpec = NonNullable<NonNullable<ProviderConnectionSpec["azure"]>["provision"]>;

/** One deployment the stack should hold; `retainOnDelete` for connections with deletionPolicy Orphan. */
export type StackDeployment = DeploymentSpec & { retainOnDelete: boolean };

/** What one stack update should produce: the account, its deployments (sorted by name), and a key for both. */
export interface StackTarget {
  account: AccountSpec;
  deployments: StackDeployment[];
  /** Equal keys mean equal updates: a stack already updated to this key needs no update. */
  key: string;
}

/**
 * A connection's place in its account:
 * - `Member`: accepted; `keep` is what the stack holds while this set of connections exists;
 * - `Rejected`: disagrees with an earlier connection of the account, or its deployment is invalid (terminal).
 */
export type Membership =
  | {
      kind: "Member";
      stack: string;
      ref: AzureAccountRef;
      /** This connection's deployment. */
      deployment: StackDeployment;
      /** Accepted connections, oldest first (deleting ones included). */
      members: ProviderConnection[];
      /** The stack's content: accepted connections that are not deleting, or deleting with Orphan. */
      keep: StackTarget | undefined;
      /** `keep` without this connection: what is left once it is gone. */
      rest: StackTarget | undefined;
    }
  | { kind: "Rejected"; stack: string; ref: AzureAccountRef; message: string };

/** The account a provision spec names; its stack is the identity (subscription, resource group, name). */
export function accountRef(provision: ProvisionSpec): AzureAccountRef {
  return {
    accountName: provision.account.name,
    resourceGroupName: provision.account.resourceGroup,
    ...(provision.account.subscriptionId ? { subscriptionId: provision.account.subscriptionId } : {}),
  };
}

/** The deployment name a connection asks for: `deployment.name`, else the connection's name. */
export function deploymentNameOf(connection: ProviderConnection): string {
  return connection.spec.azure?.provision?.deployment.name ?? connection.metadata.name;
}

/** `namespace/name`, as the stack's bookkeeping names connections. */
export function connectionKey(connection: ProviderConnection): string {
  return `${connection.metadata.namespace}/${connection.metadata.name}`;
}

/** A connection's identity in a stack's memory: its uid (a recreated connection is another one). */
export function uidOf(connection: ProviderConnection): string {
  return connection.metadata.uid ?? connectionKey(connection);
}

/** The settings every connection of one account must agree on, as they are compared. */
function accountSettings(connection: ProviderConnection, provision: ProvisionSpec) {
  const account = provision.account;
  return {
    namespace: connection.metadata.namespace,
    location: account.location.toLowerCase().replace(/\s+/g, ""),
    createResourceGroup: account.createResourceGroup ?? false,
    customSubDomainName: account.customSubDomainName ?? account.name.toLowerCase(),
    publicNetworkAccess: account.publicNetworkAccess ?? "Enabled",
    sku: account.sku ?? "S0",
    credentialsSecretRef: account.credentialsSecretRef?.name ?? "(workload identity)",
  };
}

/** Oldest first; ties by namespace and name, so every reconcile orders the same way. */
function byAge(a: ProviderConnection, b: ProviderConnection): number {
  return (
    (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
    a.metadata.namespace.localeCompare(b.metadata.namespace) ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

/** The provisioned Azure connections (any namespace) that name the same account as `connection`. */
export function accountCandidates(
  connection: ProviderConnection,
  all: readonly ProviderConnection[],
): ProviderConnection[] {
  const provision = connection.spec.azure?.provision;
  if (!provision) return [];
  const stack = stackNameFor(accountRef(provision));
  const others = all.filter((other) => {
    const theirs = other.spec.provider === "AzureOpenAI" ? other.spec.azure?.provision : undefined;
    return theirs !== undefined && stackNameFor(accountRef(theirs)) === stack && other !== connection;
  });
  // The connection as read live replaces its (possibly older) copy in the cache.
  const rest = others.filter((o) => connectionKey(o) !== connectionKey(connection));
  return [...rest, connection].sort(byAge);
}

function deploymentOf(connection: ProviderConnection, provision: ProvisionSpec): StackDeployment | string {
  const parsed = DeploymentSpec.safeParse({
    name: deploymentNameOf(connection),
    model: provision.deployment.model,
    version: provision.deployment.version,
    sku: provision.deployment.sku,
    ...(provision.deployment.versionUpgradeOption
      ? { versionUpgradeOption: provision.deployment.versionUpgradeOption }
      : {}),
  });
  if (!parsed.success) {
    return parsed.error.issues.map((i) => `deployment.${i.path.join(".")}: ${i.message}`).join("; ");
  }
  return { ...parsed.data, retainOnDelete: connection.spec.deletionPolicy === "Orphan" };
}

/**
 * Decides `connection`'s membership in its account from every provisioned connection in the cache.
 *
 * Rules: connections name an account by subscription (as written), resource group and name, case-insensitive
 * (one stack each); walked oldest first, a connection joins when it is in the namespace of the account's
 * first connection, agrees with it on location, createResourceGroup, customSubDomainName,
 * publicNetworkAccess, sku and credentialsSecretRef, has a valid deployment, and its deployment name is not
 * taken (case-insensitive); otherwise it is rejected, naming the earlier connection. The stack holds the
 * deployments of members that are not deleting or that are deleting with deletionPolicy Orphan (kept until
 * their own deletion takes them out, retained in Azure), and the union of their allowed addresses and subnets.
 */
export function membershipOf(connection: ProviderConnection, all: readonly ProviderConnection[]): Membership {
  const provision = connection.spec.azure?.provision;
  if (!provision) throw new Error("internal: membership of a connection without spec.azure.provision");
  const ref = accountRef(provision);
  const stack = stackNameFor(ref);
  const accepted: {
    connection: ProviderConnection;
    provision: ProvisionSpec;
    deployment: StackDeployment;
  }[] = [];
  let verdict: string | undefined;
  for (const candidate of accountCandidates(connection, all)) {
    const theirs = candidate.spec.azure?.provision as ProvisionSpec;
    const problem = admissionProblem(candidate, theirs, accepted);
    if (candidate === connection) verdict = typeof problem === "string" ? problem : undefined;
    if (typeof problem !== "string")
      accepted.push({ connection: candidate, provision: theirs, deployment: problem });
  }
  if (verdict !== undefined) return { kind: "Rejected", stack, ref, message: verdict };
  const mine = accepted.find((a) => a.connection === connection);
  if (!mine) throw new Error("internal: an accepted connection is missing from its account");
  const kept = accepted.filter(
    (a) =>
      a.connection.metadata.deletionTimestamp === undefined || a.connection.spec.deletionPolicy === "Orphan",
  );
  return {
    kind: "Member",
    stack,
    ref,
    deployment: mine.deployment,
    members: accepted.map((a) => a.connection),
    keep: stackTarget(ref, kept),
    rest: stackTarget(
      ref,
      kept.filter((k) => k.connection !== connection),
    ),
  };
}

/** The candidate's deployment when it may join the accepted ones, else why not. */
function admissionProblem(
  candidate: ProviderConnection,
  provision: ProvisionSpec,
  accepted: readonly {
    connection: ProviderConnection;
    provision: ProvisionSpec;
    deployment: StackDeployment;
  }[],
): StackDeployment | string {
  const first = accepted[0];
  const account = `${provision.account.resourceGroup}/${provision.account.name}`;
  if (first) {
    const want = accountSettings(first.connection, first.provision);
    const have = accountSettings(candidate, provision);
    const differing = (Object.keys(want) as (keyof typeof want)[]).filter((k) => want[k] !== have[k]);
    if (differing.includes("namespace")) {
      return `Azure account ${account} is provisioned by ProviderConnection ${connectionKey(first.connection)}: connections sharing an account must be in one namespace`;
    }
    if (differing.length > 0) {
      const detail = differing.map(
        (k) => `${k} ${JSON.stringify(want[k])} there, ${JSON.stringify(have[k])} here`,
      );
      return `Azure account ${account} is provisioned by ProviderConnection ${connectionKey(first.connection)} with other settings (${detail.join("; ")}): connections sharing an account must agree on them`;
    }
  }
  const deployment = deploymentOf(candidate, provision);
  if (typeof deployment === "string") return `invalid deployment: ${deployment}`;
  const taken = accepted.find((a) => a.deployment.name.toLowerCase() === deployment.name.toLowerCase());
  if (taken) {
    return `deployment name "${deployment.name}" in Azure account ${account} is taken by ProviderConnection ${connectionKey(taken.connection)}; set spec.azure.provision.deployment.name`;
  }
  return deployment;
}

/** The stack update for `kept` connections (oldest's account settings), or undefined when none is kept. */
export function stackTarget(
  ref: AzureAccountRef,
  kept: readonly { provision: ProvisionSpec; deployment: StackDeployment }[],
): StackTarget | undefined {
  const first = kept[0];
  if (!first) return undefined;
  const union = (pick: (p: ProvisionSpec) => readonly string[]) =>
    [...new Set(kept.flatMap((k) => pick(k.provision)))].sort();
  const settings = first.provision.account;
  const account: AccountSpec = {
    ...ref,
    location: settings.location,
    createResourceGroup: settings.createResourceGroup ?? false,
    ...(settings.customSubDomainName ? { customSubDomainName: settings.customSubDomainName } : {}),
    sku: settings.sku ?? "S0",
    publicNetworkAccess: settings.publicNetworkAccess ?? "Enabled",
    // The connection's inline block predates the account kind's explicit allowPrivateRanges: it never refused
    // private ranges, so its union keeps admitting them until the block is replaced by accountRef.
    networkRules: {
      defaultAction: "Deny",
      ipRules: union((p) => p.allowedAddresses ?? []),
      virtualNetworkSubnetIds: union((p) => p.virtualNetworkSubnetIds ?? []),
      allowPrivateRanges: true,
    },
  };
  const deployments = kept.map((k) => k.deployment).sort((a, b) => a.name.localeCompare(b.name));
  return { account, deployments, key: JSON.stringify({ account, deployments }) };
}
