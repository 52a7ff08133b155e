// How the azure-native provider of an account's stack authenticates: ARM_* variables in the environment of
// that stack's CLI (and the plugin it starts), never stack configuration, so no credential is kept in the
// state and every operation (destroy and refresh included) uses the credentials of now.
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import type { AccountSpec, AzureAccountRef, AzureCredentials } from "./provisioner.ts";

/**
 * The azure-native variables for `credentials`: a service principal's secret, or OIDC with the workload
 * identity's federated token file. The account's own subscription wins over the credentials'.
 */
export function azureCredentialEnv(
  account: AzureAccountRef,
  credentials: AzureCredentials,
): Record<string, string> {
  const env: Record<string, string> = {
    ARM_CLIENT_ID: credentials.clientId,
    ARM_TENANT_ID: credentials.tenantId,
    ARM_SUBSCRIPTION_ID: account.subscriptionId ?? credentials.subscriptionId,
  };
  if (credentials.kind === "ServicePrincipal") {
    env.ARM_CLIENT_SECRET = credentials.clientSecret;
    env.ARM_USE_OIDC = "false";
  } else {
    env.ARM_USE_OIDC = "true";
    env.ARM_OIDC_TOKEN_FILE_PATH = credentials.tokenFilePath;
  }
  return env;
}

/** The stack's configuration: only the provider's default location; nothing secret. */
export function azureNativeConfig(account: AccountSpec): ConfigMap {
  return { "azure-native:location": { value: account.location } };
}

/** The secret values in `credentials`, for scrubbing error text. */
export function credentialSecrets(credentials: AzureCredentials): string[] {
  return credentials.kind === "ServicePrincipal" ? [credentials.clientSecret] : [];
}
