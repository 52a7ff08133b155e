// An AzureOpenAIAccount as the account reconciler reads it, and the words it derives from one: its Azure
// identity, its stack, its key Secret, the AccountSpec an update is made of, and the connections naming it.
import type { ObjectMeta, ProviderConnection } from "../../crds/index.ts";
import type { AccountSpec } from "./provisioner.ts";
import { type AzureAccountRef, stackNameFor } from "./stack-name.ts";

// PROVISIONAL until the aoai-api branch's kind is merged: then this becomes the crds/ type.
/** The AzureOpenAIAccount object. */
export interface AzureOpenAIAccount {
  apiVersion: "modelkeys.dev/v1alpha1";
  kind: "AzureOpenAIAccount";
  metadata: ObjectMeta;
  spec: {
    accountName: string;
    resourceGroupName: string;
    createResourceGroup?: boolean;
    location: string;
    subscriptionId?: string;
    sku?: string;
    customSubDomainName?: string;
    publicNetworkAccess?: "Enabled" | "Disabled";
    networkRules?: {
      defaultAction?: "Deny" | "Allow";
      ipRules?: string[];
      virtualNetworkSubnetIds?: string[];
      allowPrivateRanges?: boolean;
    };
    credentials?: { servicePrincipal?: { secretRef: { name: string } }; workloadIdentity?: object };
    deletionPolicy?: "Delete" | "Orphan";
  };
  status?: AccountStatus;
}

/** One deployment as the account's status reports it. */
export interface DeploymentStatus {
  name: string;
  model: string;
  version: string;
  sku?: { name: string; capacity: number };
  /** Succeeded: made by the last update; Pending: wanted, not made yet; Failed: its update failed; Deleting: leaving. */
  state?: string;
  /** The ProviderConnection (in the account's namespace) whose deployment it is. */
  connection?: string;
}

/** status of an AzureOpenAIAccount. */
export interface AccountStatus {
  observedGeneration?: number;
  endpoint?: string;
  ipRules?: string[];
  networkSummary?: string;
  deploymentCount?: number;
  deployments?: DeploymentStatus[];
  keySecretName?: string;
  activeKey?: "key1" | "key2";
  lastRotated?: string;
  rotateKeyRequestedAt?: string;
  stack?: { name?: string; lastUpdate?: { result?: string; time?: string } };
  conditions?: import("../../crds/index.ts").Condition[];
}

/** The finalizer the account reconciler puts on an account: its stack is destroyed (or left) before it goes. */
export const ACCOUNT_FINALIZER = "modelkeys.dev/azure-account";

/** The account's name in Azure. */
export function azureNameOf(account: AzureOpenAIAccount): string {
  return account.spec.accountName;
}

/** What identifies the account in Azure (and so its stack). */
export function accountRefOf(account: AzureOpenAIAccount): AzureAccountRef {
  return {
    name: azureNameOf(account),
    resourceGroup: account.spec.resourceGroupName,
    ...(account.spec.subscriptionId ? { subscriptionId: account.spec.subscriptionId } : {}),
  };
}

/** The account's Pulumi stack. */
export function stackOf(account: AzureOpenAIAccount): string {
  return stackNameFor(accountRefOf(account));
}

/** The Secret the operator owns for an account: the active key (`api-key`) and the endpoint. */
export function keySecretNameOf(accountName: string): string {
  return `${accountName}-azure-openai-key`;
}

/** The keys of the account's key Secret. */
export const KEY_SECRET_KEYS = { apiKey: "api-key", endpoint: "endpoint" } as const;

/** The account as an update wants it, without deployments. */
export function accountSpecOf(account: AzureOpenAIAccount): AccountSpec {
  const spec = account.spec;
  return {
    ...accountRefOf(account),
    location: spec.location,
    createResourceGroup: spec.createResourceGroup ?? false,
    ...(spec.customSubDomainName ? { customSubDomainName: spec.customSubDomainName } : {}),
    sku: spec.sku ?? "S0",
    publicNetworkAccess: spec.publicNetworkAccess ?? "Enabled",
    allowedAddresses: [...new Set(spec.networkRules?.ipRules ?? [])].sort(),
    virtualNetworkSubnetIds: [...new Set(spec.networkRules?.virtualNetworkSubnetIds ?? [])].sort(),
  };
}

/** The name of the account a provisioned connection references, if it is one. */
export function accountNameOf(connection: ProviderConnection): string | undefined {
  if (connection.spec.provider !== "AzureOpenAI") return undefined;
  return connection.spec.azure?.provision?.accountRef.name;
}

/** `namespace/name` of the account a connection references, the index key. */
export function accountKeyOf(connection: ProviderConnection): string | undefined {
  const name = accountNameOf(connection);
  return name === undefined ? undefined : `${connection.metadata.namespace}/${name}`;
}
