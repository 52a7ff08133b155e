// Benchmark: the size of an account's kept Pulumi state (its Secret) with 50 deployments, from a real update
// under the engine, the state store running as the operator's identity (the install's RBAC). The resources
// are dynamic stand-ins shaped like azure-native's account and deployments (their inputs and the outputs
// ARM returns), since the azure-native plugin cannot run here.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { PulumiAutomationProvisioner } from "../../operator/azure/automation.ts";
import type { ProgramFactory } from "../../operator/azure/inline-program.ts";
import type { AccountSpec } from "../../operator/azure/provisioner.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { clientNodeKubeConfig } from "../../operator/kube/client-node-bridge.ts";
import {
  CHECKPOINT_KEY,
  KubernetesStateStore,
  SECRET_DATA_LIMIT,
  stateObjectName,
} from "../../operator/pulumi-state/index.ts";
import { allowedIpRules } from "../../pulumi/network-rules.ts";
import { dynamicProviderEnv, stateCredentials } from "../support/state-program.ts";
import type { BenchCluster } from "./cluster.ts";
import { type Bench, round } from "./measure.ts";

const DEPLOYMENTS = 50;
const SUBSCRIPTION = stateCredentials.subscriptionId;

// Echoes its inputs and adds what ARM returns for the resource (`outs` built by the program).
const armShaped: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: inputs.armId, outs: { ...inputs.arm, ...inputs } };
  },
};

class ArmShaped extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super(armShaped, name, props, opts);
  }
}

const program: ProgramFactory =
  ({ account }) =>
  async () => {
    const component = new pulumi.ComponentResource("modelkeys:azure:AzureOpenAIAccount", account.accountName);
    const accountId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${account.resourceGroupName}/providers/Microsoft.CognitiveServices/accounts/${account.accountName}`;
    const endpoint = `https://${account.accountName}.openai.azure.com/`;
    const ipRules = allowedIpRules(account.networkRules.ipRules).map((value) => ({ value }));
    new ArmShaped(
      `${account.accountName}-account`,
      {
        accountName: account.accountName,
        resourceGroupName: account.resourceGroupName,
        location: account.location,
        kind: "OpenAI",
        sku: { name: "S0" },
        properties: {
          customSubDomainName: account.accountName,
          publicNetworkAccess: "Enabled",
          disableLocalAuth: false,
          networkAcls: { defaultAction: "Deny", ipRules, virtualNetworkRules: [] },
        },
        armId: accountId,
        arm: {
          id: accountId,
          name: account.accountName,
          type: "Microsoft.CognitiveServices/accounts",
          etag: '"0a00b1c2-0000-0100-0000-6750a1b20000"',
          azureApiVersion: "2024-10-01",
          properties: {
            endpoint,
            endpoints: Object.fromEntries(
              [
                "OpenAI Language Model Instance API",
                "OpenAI Dall-E API",
                "OpenAI Realtime API",
                "Token Service API",
              ].map((k) => [k, endpoint]),
            ),
            provisioningState: "Succeeded",
            dateCreated: "2026-12-01T10:00:00.0000000Z",
            internalId: "0123456789abcdef0123456789abcdef",
            capabilities: [
              "VirtualNetworks",
              "CustomerManagedKey",
              "MaxFineTuneCount",
              "MaxRunningFineTuneCount",
            ].map((name) => ({ name, value: "true" })),
            networkAcls: { defaultAction: "Deny", ipRules, virtualNetworkRules: [] },
          },
          systemData: {
            createdAt: "2026-12-01T10:00:00.0000000Z",
            createdBy: stateCredentials.clientId,
            createdByType: "Application",
          },
        },
      },
      { parent: component },
    );
    for (const d of account.deployments) {
      const id = `${accountId}/deployments/${d.name}`;
      new ArmShaped(
        `${account.accountName}-${d.name}`,
        {
          accountName: account.accountName,
          resourceGroupName: account.resourceGroupName,
          deploymentName: d.name,
          properties: {
            model: { format: "OpenAI", name: d.model, version: d.version },
            versionUpgradeOption: "OnceNewDefaultVersionAvailable",
          },
          sku: { name: d.sku?.name ?? "Standard", capacity: d.sku?.capacity ?? 10 },
          armId: id,
          arm: {
            id,
            name: d.name,
            type: "Microsoft.CognitiveServices/accounts/deployments",
            etag: `"${d.name}-etag-0000-0000-000000000000"`,
            azureApiVersion: "2024-10-01",
            properties: {
              provisioningState: "Succeeded",
              capabilities: { chatCompletion: "true", assistants: "true", jsonObjectResponse: "true" },
              rateLimits: [
                { key: "request", renewalPeriod: 10, count: (d.sku?.capacity ?? 10) * 10 },
                { key: "token", renewalPeriod: 60, count: (d.sku?.capacity ?? 10) * 1000 },
              ],
              raiPolicyName: "Microsoft.DefaultV2",
              currentCapacity: d.sku?.capacity ?? 10,
            },
            systemData: {
              createdAt: "2026-12-01T10:00:00.0000000Z",
              createdBy: stateCredentials.clientId,
              createdByType: "Application",
              lastModifiedAt: "2026-12-01T10:00:00.0000000Z",
            },
          },
        },
        { parent: component },
      );
    }
    return {
      endpoint,
      accountName: account.accountName,
      deploymentNames: account.deployments.map((d) => d.name),
      allowedAddresses: allowedIpRules(account.networkRules.ipRules),
      primaryKey: pulumi.secret("a".repeat(84)),
      secondaryKey: pulumi.secret("b".repeat(84)),
    };
  };

export const pulumiStateSize: Bench<BenchCluster> = {
  name: "pulumi-state-size",
  description: `the state Secret of one account with ${DEPLOYMENTS} deployments (ARM-shaped stand-ins under the real engine, stored as the operator): compressed and raw size`,
  async run(cluster) {
    const root = process.env.MODELKEYS_PULUMI_DIR;
    if (!root) throw new Error("set MODELKEYS_PULUMI_DIR=$(bash local/pulumi/build.sh)");
    const namespace = await cluster.createNamespace("bench-state");
    const base = await mkdtemp(join(tmpdir(), "modelkeys-bench-state-"));
    try {
      await mkdir(join(base, "home"));
      await mkdir(join(base, "work"));
      const provisioner = new PulumiAutomationProvisioner({
        state: {
          store: new KubernetesStateStore({
            kc: clientNodeKubeConfig(cluster.operatorKc),
            identity: "bench",
          }),
          namespace,
        },
        passphrase: "bench-passphrase",
        pulumiRoot: root,
        pulumiHome: join(base, "home"),
        workRoot: join(base, "work"),
        env: dynamicProviderEnv,
        program,
      });
      const account: AccountSpec = {
        accountName: "bench-openai",
        namespace,
        resourceGroupName: "rg-bench",
        location: "eastus",
        createResourceGroup: false,
        sku: "S0",
        publicNetworkAccess: "Enabled",
        networkRules: {
          defaultAction: "Deny",
          ipRules: ["203.0.113.0/24", "198.51.100.7"],
          virtualNetworkSubnetIds: [],
          allowPrivateRanges: false,
        },
      };
      const deployments = Array.from({ length: DEPLOYMENTS }, (_, i) => ({
        name: `deployment-${String(i).padStart(2, "0")}`,
        model: i % 2 === 0 ? "gpt-4o" : "gpt-4o-mini",
        version: "2024-11-20",
        sku: { name: "GlobalStandard", capacity: 10 + i },
      }));
      await provisioner.up(account, deployments, stateCredentials);
      const secret = await cluster.admin.core.readNamespacedSecret({
        namespace,
        name: stateObjectName(stackNameFor(account)),
      });
      const stored = Buffer.from(secret.data?.[CHECKPOINT_KEY] ?? "", "base64");
      const text = gunzipSync(stored).toString("utf8");
      const raw = Buffer.byteLength(text);
      // The stand-ins carry their provider's code (__provider) in every resource; azure-native's do not.
      const withoutProvider = Buffer.byteLength(
        JSON.stringify(JSON.parse(text), (key, value) => (key === "__provider" ? undefined : value)),
      );
      return {
        measurements: [
          { name: "compressed", value: round(stored.length / 1024), unit: "KiB", target: { atMost: 256 } },
          { name: "uncompressed", value: round(raw / 1024), unit: "KiB" },
          { name: "uncompressed without __provider", value: round(withoutProvider / 1024), unit: "KiB" },
          {
            name: "share of the 1 MiB limit",
            value: round((100 * stored.length) / SECRET_DATA_LIMIT),
            unit: "%",
          },
        ],
        details: { deployments: DEPLOYMENTS, compressedBytes: stored.length, rawBytes: raw, withoutProvider },
      };
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  },
};
