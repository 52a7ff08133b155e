// What the provisioner takes from the operator: the environment (backend, CLI, PULUMI_HOME) and the
// azure-native credentials for each kind, as ARM_* variables rather than stack configuration.
import { describe, expect, it } from "vitest";
import { automationSettingsFromEnv } from "../../operator/azure/config.ts";
import {
  azureCredentialEnv,
  azureNativeConfig,
  credentialSecrets,
} from "../../operator/azure/provider-config.ts";
import type { AccountSpec } from "../../operator/azure/provisioner.ts";

const account: AccountSpec = {
  accountName: "acme-openai",
  resourceGroupName: "rg",
  location: "eastus",
  createResourceGroup: false,
  sku: "S0",
  publicNetworkAccess: "Enabled",
  networkRules: {
    defaultAction: "Deny",
    ipRules: [],
    virtualNetworkSubnetIds: [],
    allowPrivateRanges: false,
  },
};

describe("automationSettingsFromEnv", () => {
  it("has no backend without PULUMI_BACKEND_URL (state kept in Kubernetes) and the CLI on PATH", () => {
    expect(automationSettingsFromEnv({})).toEqual({});
  });

  it("reads PULUMI_BACKEND_URL, MODELKEYS_PULUMI_DIR and PULUMI_HOME", () => {
    expect(
      automationSettingsFromEnv({
        PULUMI_BACKEND_URL: "azblob://state",
        MODELKEYS_PULUMI_DIR: "/opt/pulumi",
        PULUMI_HOME: "/var/lib/modelkeys/pulumi-home",
      }),
    ).toEqual({
      backendUrl: "azblob://state",
      pulumiRoot: "/opt/pulumi",
      pulumiHome: "/var/lib/modelkeys/pulumi-home",
    });
  });
});

describe("the azure-native credentials", () => {
  it("passes a service principal as ARM_* variables, not configuration", () => {
    const credentials = {
      kind: "ServicePrincipal",
      clientId: "c",
      clientSecret: "s3cret",
      tenantId: "t",
      subscriptionId: "sub",
    } as const;
    expect(azureCredentialEnv(account, credentials)).toEqual({
      ARM_CLIENT_ID: "c",
      ARM_CLIENT_SECRET: "s3cret",
      ARM_TENANT_ID: "t",
      ARM_SUBSCRIPTION_ID: "sub",
      ARM_USE_OIDC: "false",
    });
    expect(azureNativeConfig(account)).toEqual({ "azure-native:location": { value: "eastus" } });
  });

  it("uses OIDC with the federated token file for workload identity, and the account's subscription", () => {
    const env = azureCredentialEnv(
      { ...account, subscriptionId: "own-sub" },
      {
        kind: "WorkloadIdentity",
        clientId: "c",
        tenantId: "t",
        subscriptionId: "sub",
        tokenFilePath: "/var/run/token",
      },
    );
    expect(env).toEqual({
      ARM_CLIENT_ID: "c",
      ARM_TENANT_ID: "t",
      ARM_SUBSCRIPTION_ID: "own-sub",
      ARM_USE_OIDC: "true",
      ARM_OIDC_TOKEN_FILE_PATH: "/var/run/token",
    });
  });

  it("lists the secrets to scrub from errors", () => {
    expect(
      credentialSecrets({
        kind: "ServicePrincipal",
        clientId: "c",
        clientSecret: "x1",
        tenantId: "t",
        subscriptionId: "s",
      }),
    ).toEqual(["x1"]);
  });
});
