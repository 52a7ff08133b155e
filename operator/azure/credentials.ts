// How the operator signs in to Azure for one account: the service principal in the Secret the account names,
// or the operator's workload identity (the variables the Azure workload identity webhook injects).
import { checkSecretValue } from "./ports.ts";
import type { AzureCredentials } from "./provisioner.ts";

/** The keys a service principal Secret holds. */
export const SERVICE_PRINCIPAL_KEYS = ["clientId", "clientSecret", "tenantId", "subscriptionId"] as const;

/** The variables of Azure workload identity. */
export const WORKLOAD_IDENTITY_ENV = {
  clientId: "AZURE_CLIENT_ID",
  tenantId: "AZURE_TENANT_ID",
  tokenFile: "AZURE_FEDERATED_TOKEN_FILE",
  subscriptionId: "AZURE_SUBSCRIPTION_ID",
} as const;

/** Credentials, or why there are none (a message naming the Secret key or variable, never a value). */
export type CredentialsResult =
  | { kind: "Ready"; credentials: AzureCredentials }
  | { kind: "Missing"; message: string };

/**
 * The service principal in `data` (the Secret `secretName`'s decoded content, undefined when it does not
 * exist). `subscriptionId` may come from the account instead of the Secret.
 */
export function servicePrincipalFrom(
  secretName: string,
  data: Record<string, string> | undefined,
  accountSubscriptionId: string | undefined,
): CredentialsResult {
  if (data === undefined)
    return { kind: "Missing", message: `Azure credentials Secret ${secretName} not found` };
  const value = (key: string) => data[key]?.trim() || undefined;
  const subscriptionId = accountSubscriptionId ?? value("subscriptionId");
  const missing = SERVICE_PRINCIPAL_KEYS.filter((key) =>
    key === "subscriptionId" ? subscriptionId === undefined : value(key) === undefined,
  );
  if (missing.length > 0) {
    return {
      kind: "Missing",
      message: `Azure credentials Secret ${secretName} has no ${missing.join(", ")}`,
    };
  }
  // Checked like every credential before it leaves the process (control or non-ASCII bytes, size).
  for (const key of SERVICE_PRINCIPAL_KEYS) {
    const raw = key === "subscriptionId" && accountSubscriptionId !== undefined ? undefined : data[key];
    const checked =
      raw === undefined ? undefined : checkSecretValue("apiKey", raw, { secret: secretName, key });
    if (checked && !checked.ok) return { kind: "Missing", message: `Azure credentials ${checked.message}` };
  }
  return {
    kind: "Ready",
    credentials: {
      kind: "ServicePrincipal",
      clientId: value("clientId") as string,
      clientSecret: value("clientSecret") as string,
      tenantId: value("tenantId") as string,
      subscriptionId: subscriptionId as string,
    },
  };
}

/**
 * The operator's workload identity from `env`; the subscription is the account's, else AZURE_SUBSCRIPTION_ID.
 */
export function workloadIdentityFrom(
  env: Record<string, string | undefined>,
  accountSubscriptionId: string | undefined,
): CredentialsResult {
  const clientId = env[WORKLOAD_IDENTITY_ENV.clientId];
  const tenantId = env[WORKLOAD_IDENTITY_ENV.tenantId];
  const tokenFilePath = env[WORKLOAD_IDENTITY_ENV.tokenFile];
  const subscriptionId = accountSubscriptionId ?? env[WORKLOAD_IDENTITY_ENV.subscriptionId];
  const missing: string[] = [];
  if (!clientId) missing.push(WORKLOAD_IDENTITY_ENV.clientId);
  if (!tenantId) missing.push(WORKLOAD_IDENTITY_ENV.tenantId);
  if (!tokenFilePath) missing.push(WORKLOAD_IDENTITY_ENV.tokenFile);
  if (missing.length > 0) {
    return {
      kind: "Missing",
      message: `no Azure credentials: the account names no spec.credentials.servicePrincipal and the operator has no workload identity (${missing.join(", ")} unset)`,
    };
  }
  if (!subscriptionId) {
    return {
      kind: "Missing",
      message: `no Azure subscription: set the account's spec.subscriptionId or the operator's ${WORKLOAD_IDENTITY_ENV.subscriptionId}`,
    };
  }
  return {
    kind: "Ready",
    credentials: {
      kind: "WorkloadIdentity",
      clientId: clientId as string,
      tenantId: tenantId as string,
      subscriptionId,
      tokenFilePath: tokenFilePath as string,
    },
  };
}
