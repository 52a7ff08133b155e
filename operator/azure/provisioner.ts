// The contract between the reconciler and Azure provisioning: what an account and its deployments are,
// how credentials arrive, and what provisioning hands back. The Pulumi Automation API implements it.
import type { AccountSettings } from "../../pulumi/account-schema.ts";
import type { DeploymentSpec } from "../../pulumi/args.ts";
import { REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import type { AzureAccountRef } from "./stack-name.ts";

export type { DeploymentSpec } from "../../pulumi/args.ts";
export type { AzureAccountRef } from "./stack-name.ts";

/**
 * One Azure OpenAI account as the operator wants it: the shared account schema's values (the AzureOpenAIAccount's
 * spec without its Kubernetes-side fields) and the subscription it lives in.
 */
export type AccountSpec = AccountSettings & Pick<AzureAccountRef, "subscriptionId" | "namespace">;

/** A service principal's secret, from a Kubernetes Secret. */
export interface ServicePrincipalCredentials {
  kind: "ServicePrincipal";
  clientId: string;
  clientSecret: string;
  tenantId: string;
  subscriptionId: string;
}

/** Azure workload identity: the federated token file the webhook mounts (AZURE_FEDERATED_TOKEN_FILE). */
export interface WorkloadIdentityCredentials {
  kind: "WorkloadIdentity";
  clientId: string;
  tenantId: string;
  subscriptionId: string;
  tokenFilePath: string;
}

/** How the operator authenticates to Azure for one account. */
export type AzureCredentials = ServicePrincipalCredentials | WorkloadIdentityCredentials;

/** The account's two keys; either serves while the other is regenerated. */
export interface AccountKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** What an update leaves in place: where the app calls, with which deployments and keys. */
export interface ProvisionResult extends AccountKeys {
  /** The Pulumi stack of the account. */
  stack: string;
  endpoint: string;
  accountName: string;
  deploymentNames: string[];
  /** The IP rules the account carries (the app's addresses included). */
  allowedAddresses: string[];
}

/** Which key to regenerate: key1 (primary) or key2 (secondary). */
export type KeyName = "key1" | "key2";

/**
 * Provisions Azure OpenAI accounts, one Pulumi stack per account.
 *
 * Guarantees: calls for one account (one stack) run one at a time in call order; calls for different
 * accounts run concurrently; every method is idempotent; errors carry no secret (keys, client secrets,
 * the passphrase) and are {@link ProvisionError} or {@link ProvisionInputError}.
 */
export interface AzureProvisioner {
  /** Creates or updates the account so it holds exactly `deployments`; returns endpoint and keys. */
  up(
    account: AccountSpec,
    deployments: DeploymentSpec[],
    credentials: AzureCredentials,
  ): Promise<ProvisionResult>;
  /** Deletes the account and its deployments and removes the stack; a missing stack is already done. */
  destroy(account: AzureAccountRef, credentials: AzureCredentials): Promise<void>;
  /** Regenerates one key and returns both as they now are (rotation: key2, switch the app, then key1). */
  regenerateKey(account: AzureAccountRef, key: KeyName, credentials: AzureCredentials): Promise<AccountKeys>;
}

/** Invalid account or deployments: retrying will not help until the spec changes. */
export class ProvisionInputError extends TerminalError {
  constructor(readonly issues: readonly string[]) {
    super(REASON.ProvisionFailed, `invalid Azure OpenAI provisioning spec: ${issues.join("; ")}`);
  }
}

/** A failed Pulumi or Azure operation; `message` is redacted and fit for a condition. */
export class ProvisionError extends Error {
  constructor(
    readonly operation: "up" | "destroy" | "regenerateKey",
    readonly stackName: string,
    message: string,
  ) {
    super(message);
    this.name = "ProvisionError";
  }
}
