// What a provisioned connection reads of its AzureOpenAIAccount: ready with the endpoint and the key Secret,
// or waiting with a condition that names the account and why; and whether a deleting one's deployment is gone.
import { describe, expect, it } from "vitest";
import { AzureOpenAIAccountSpec, type ProviderConnection } from "../../crds/index.ts";
import type { AzureOpenAIAccount, DeploymentStatus } from "../../operator/azure/account.ts";
import { connectionDeprovisionView, connectionProvisionView } from "../../operator/azure/connection-view.ts";

const connection = (deletionPolicy: "Delete" | "Orphan" = "Delete"): ProviderConnection =>
  ({
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: { name: "chat", namespace: "ml" },
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      deletionPolicy,
      azure: {
        provision: { accountRef: { name: "acme-openai" }, deployment: { model: "gpt-4o", version: "v" } },
      },
    },
  }) as unknown as ProviderConnection;

const entry = (state: string, owner = "chat"): DeploymentStatus => ({
  name: "chat",
  model: "gpt-4o",
  version: "v",
  state,
  connection: owner,
});

const account = (
  deployments: DeploymentStatus[],
  extra: Partial<NonNullable<AzureOpenAIAccount["status"]>> = {},
  deleting = false,
): AzureOpenAIAccount => ({
  apiVersion: "modelkeys.dev/v1alpha1",
  kind: "AzureOpenAIAccount",
  metadata: {
    name: "acme-openai",
    namespace: "ml",
    ...(deleting ? { deletionTimestamp: "2026-11-09T00:00:00Z" } : {}),
  },
  spec: AzureOpenAIAccountSpec.parse({
    accountName: "acme-openai",
    resourceGroupName: "rg",
    location: "eastus",
  }),
  status: {
    endpoint: "https://acme-openai.openai.azure.com/",
    keySecretName: "acme-openai-azure-openai-key",
    deployments,
    conditions: [
      {
        type: "Ready",
        status: "False",
        reason: "Provisioning",
        message: "updating Azure account rg/acme-openai",
        lastTransitionTime: "2026-11-01T00:00:00Z",
      },
    ],
    ...extra,
  },
});

describe("connectionProvisionView", () => {
  it("is Ready with the endpoint, the deployment and the account's key Secret once its deployment is", () => {
    expect(connectionProvisionView(connection(), account([entry("Succeeded")]))).toMatchObject({
      kind: "Ready",
      deployment: "chat",
      endpoint: "https://acme-openai.openai.azure.com/",
      secretName: "acme-openai-azure-openai-key",
      conditions: [{ type: "Provisioned", status: "True", reason: "Provisioned" }],
      azureStatus: { accountName: "acme-openai", deployment: "chat", model: "gpt-4o" },
    });
  });

  it.each([
    [
      "no account",
      undefined,
      "AccountNotFound",
      /^AzureOpenAIAccount acme-openai not found in namespace ml$/,
    ],
    [
      "an account being deleted",
      account([entry("Succeeded")], {}, true),
      "AccountNotReady",
      /is being deleted/,
    ],
    [
      "a deployment not made yet",
      account([]),
      "AccountNotReady",
      /^waiting for AzureOpenAIAccount acme-openai \(deployment chat is not made yet\): updating Azure account/,
    ],
    ["a pending deployment", account([entry("Pending")]), "AccountNotReady", /deployment chat is Pending/],
    ["a failed deployment", account([entry("Failed")]), "AccountNotReady", /deployment chat is Failed/],
    [
      "a deployment name another connection holds",
      account([entry("Succeeded", "other")]),
      "ProvisionFailed",
      /taken by ProviderConnection other/,
    ],
  ] as const)("waits on %s, saying so", (_label, acct, reason, message) => {
    const view = connectionProvisionView(connection(), acct);
    expect(view.kind).toBe("Pending");
    expect(view.conditions).toEqual([
      { type: "Provisioned", status: "False", reason, message: expect.stringMatching(message) },
    ]);
  });
});

describe("connectionDeprovisionView", () => {
  it("is done once the account lists no deployment of the connection, or is gone or going", () => {
    expect(connectionDeprovisionView(connection(), account([]))).toEqual({ kind: "Done" });
    expect(connectionDeprovisionView(connection(), undefined)).toEqual({ kind: "Done" });
    expect(connectionDeprovisionView(connection(), account([entry("Succeeded")], {}, true))).toEqual({
      kind: "Done",
    });
  });

  it("waits while the account still lists it, saying what for (Orphan: released, not deleted)", () => {
    const del = connectionDeprovisionView(connection(), account([entry("Deleting")]));
    expect(del).toMatchObject({
      kind: "Pending",
      conditions: [
        { type: "Ready", reason: "Deleting", message: expect.stringMatching(/to delete deployment chat/) },
        { type: "Provisioned", status: "Unknown" },
      ],
    });
    const orphan = connectionDeprovisionView(connection("Orphan"), account([entry("Succeeded")]));
    expect(orphan).toMatchObject({
      kind: "Pending",
      conditions: [{ message: expect.stringMatching(/deletionPolicy Orphan: it stays in Azure/) }, {}],
    });
  });

  it("names the way out when the account's update fails", () => {
    const failed = account([entry("Succeeded")], {
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "ProvisionFailed",
          message: "quota",
          lastTransitionTime: "2026-11-01T00:00:00Z",
        },
      ],
    });
    expect(connectionDeprovisionView(connection(), failed)).toMatchObject({
      conditions: [
        { message: expect.stringMatching(/quota; .*modelkeys\.dev\/release=true/) },
        { status: "False", reason: "ProvisionFailed" },
      ],
    });
  });
});
