// What the provisioner takes from the operator: the environment (backend, CLI, PULUMI_HOME) and the
// azure-native configuration for each kind of credential, with every credential marked secret.
import { describe, expect, it } from "vitest";
import { automationSettingsFromEnv, DEFAULT_BACKEND_URL } from "../../operator/azure/config.ts";
import { azureNativeConfig, credentialSecrets } from "../../operator/azure/provider-config.ts";
import type { AccountSpec } from "../../operator/azure/provisioner.ts";

const account: AccountSpec = {
  name: "acme-openai",
  resourceGroup: "rg",
  location: "eastus",
  createResourceGroup: false,
  allowedAddresses: [],
  virtualNetworkSubnetIds: [],
};

describe("automationSettingsFromEnv", () => {
  it("defaults to the file backend on the operator's volume and the CLI on PATH", () => {
    expect(automationSettingsFromEnv({})).toEqual({ backendUrl: DEFAULT_BACKEND_URL });
    expect(DEFAULT_BACKEND_URL).toBe("file:///var/lib/modelkeys/pulumi");
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

describe("azureNativeConfig", () => {
  it("passes a service principal as secret configuration", () => {
    const config = azureNativeConfig(account, {
      kind: "ServicePrincipal",
      clientId: "c",
      clientSecret: "s3cret",
      tenantId: "t",
      subscriptionId: "sub",
    });
    expect(config).toEqual({
      "azure-native:location": { value: "eastus" },
      "azure-native:clientId": { value: "c", secret: true },
      "azure-native:clientSecret": { value: "s3cret", secret: true },
      "azure-native:tenantId": { value: "t", secret: true },
      "azure-native:subscriptionId": { value: "sub", secret: true },
    });
  });

  it("uses OIDC with the federated token file for workload identity, and the account's subscription", () => {
    const config = azureNativeConfig(
      { ...account, subscriptionId: "own-sub" },
      {
        kind: "WorkloadIdentity",
        clientId: "c",
        tenantId: "t",
        subscriptionId: "sub",
        tokenFilePath: "/var/run/token",
      },
    );
    expect(config).toMatchObject({
      "azure-native:useOidc": { value: "true" },
      "azure-native:oidcTokenFilePath": { value: "/var/run/token" },
      "azure-native:subscriptionId": { value: "own-sub", secret: true },
    });
    expect(config).not.toHaveProperty("azure-native:clientSecret");
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
