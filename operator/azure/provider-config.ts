// The azure-native provider's stack configuration for one account: credentials as secret config (a
// service principal) or OIDC through the workload identity's federated token file.
import type { ConfigMap } from "@pulumi/pulumi/automation/index.js";
import type { AccountSpec, AzureCredentials } from "./provisioner.ts";

/** Stack configuration for azure-native; secrets are marked so the state holds them encrypted. */
export function azureNativeConfig(account: AccountSpec, credentials: AzureCredentials): ConfigMap {
  const config: ConfigMap = {
    "azure-native:location": { value: account.location },
    "azure-native:clientId": { value: credentials.clientId, secret: true },
    "azure-native:tenantId": { value: credentials.tenantId, secret: true },
    "azure-native:subscriptionId": {
      value: account.subscriptionId ?? credentials.subscriptionId,
      secret: true,
    },
  };
  if (credentials.kind === "ServicePrincipal") {
    config["azure-native:clientSecret"] = { value: credentials.clientSecret, secret: true };
  } else {
    config["azure-native:useOidc"] = { value: "true" };
    config["azure-native:oidcTokenFilePath"] = { value: credentials.tokenFilePath };
  }
  return config;
}

/** The secret values in `credentials`, for scrubbing error text. */
export function credentialSecrets(credentials: AzureCredentials): string[] {
  return credentials.kind === "ServicePrincipal" ? [credentials.clientSecret] : [];
}
