// An AzureOpenAIAccount as the account reconciler reads it, and the words it derives from one: its Azure
// identity, its stack, its key Secret, the AccountSpec an update is made of, and the connections naming it.
import type {
  AccountDeploymentStatus,
  AzureOpenAIAccount,
  AzureOpenAIAccountStatus,
  ProviderConnection,
} from "../../crds/index.ts";
import type { AccountSpec } from "./provisioner.ts";
import { type AzureAccountRef, stackNameFor } from "./stack-name.ts";

export type { AzureOpenAIAccount } from "../../crds/index.ts";

/** One deployment as the account's status reports it. */
export type DeploymentStatus = AccountDeploymentStatus;
/** status of an AzureOpenAIAccount. */
export type AccountStatus = AzureOpenAIAccountStatus;

/** The finalizer the account reconciler puts on an account: its stack is destroyed (or left) before it goes. */
export const ACCOUNT_FINALIZER = "modelkeys.dev/azure-account";

/** The account's name in Azure. */
export function azureNameOf(account: AzureOpenAIAccount): string {
  return account.spec.accountName;
}

/** What identifies the account in Azure (and so its stack). */
export function accountRefOf(account: AzureOpenAIAccount): AzureAccountRef {
  return {
    accountName: account.spec.accountName,
    resourceGroupName: account.spec.resourceGroupName,
    ...(account.spec.subscriptionId ? { subscriptionId: account.spec.subscriptionId } : {}),
    // A state store keeps the stack's checkpoint beside the account.
    namespace: account.metadata.namespace,
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

/** The account as an update wants it, without deployments: the shared schema's fields of its spec. */
export function accountSpecOf(account: AzureOpenAIAccount): AccountSpec {
  const {
    credentials: _credentials,
    deletionPolicy: _deletionPolicy,
    stateBackend: _stateBackend,
    ...settings
  } = account.spec;
  return { ...settings, namespace: account.metadata.namespace };
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
