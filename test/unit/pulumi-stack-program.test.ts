// The standalone program (Pulumi.yaml) under the mock runtime: it reads `modelkeys:*` stack configuration,
// falls back to azure-native:location, and names the configuration key at fault when it is invalid.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";

const registered: { type: string; inputs: Record<string, unknown> }[] = [];

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "azure-native:cognitiveservices:Account") {
        state.name = args.inputs.accountName;
        state.properties = { ...args.inputs.properties, endpoint: "https://from-config.openai.azure.com/" };
      }
      if (args.type === "azure-native:cognitiveservices:Deployment") state.name = args.inputs.deploymentName;
      if (args.type === "azure-native:resources:ResourceGroup") state.name = args.inputs.resourceGroupName;
      return { id: `${args.name}-id`, state };
    },
    call: () => ({ key1: "k1", key2: "k2" }),
  },
  "modelkeys",
  "dev",
  false,
);

const { stackProgram, readStackConfig } = await import("../../pulumi/stack-program.ts");

const deployments = [
  { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: { name: "GlobalStandard", capacity: 50 } },
];

function configure(values: Record<string, unknown>): void {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(config);
}

afterEach(() => pulumi.runtime.setAllConfig({}));

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("the stack program", () => {
  it("builds the account from modelkeys:* configuration and returns its outputs", async () => {
    configure({
      "azure-native:location": "westeurope",
      "modelkeys:resourceGroupName": "rg-cfg",
      "modelkeys:createResourceGroup": "true",
      "modelkeys:accountName": "from-config",
      "modelkeys:allowedAddresses": ["192.0.2.0/24"],
      "modelkeys:deployments": deployments,
    });
    const outputs = stackProgram();
    expect(await resolved(outputs.endpoint as pulumi.Output<string>)).toBe(
      "https://from-config.openai.azure.com/",
    );
    expect(await resolved(outputs.deploymentNames as pulumi.Output<string[]>)).toEqual(["gpt-4o"]);
    expect(await pulumi.isSecret(outputs.primaryKey as pulumi.Output<string>)).toBe(true);
    const account = registered.find((r) => r.type === "azure-native:cognitiveservices:Account");
    expect(account?.inputs).toMatchObject({
      location: "westeurope",
      resourceGroupName: "rg-cfg",
      properties: {
        networkAcls: {
          defaultAction: "Deny",
          ipRules: [
            { value: "3.219.3.197" },
            { value: "34.237.73.3" },
            { value: "44.216.17.242" },
            { value: "192.0.2.0/24" },
          ],
        },
      },
    });
    expect(registered.some((r) => r.type === "azure-native:resources:ResourceGroup")).toBe(true);
  });

  it("prefers modelkeys:location over azure-native:location", () => {
    configure({
      "azure-native:location": "westeurope",
      "modelkeys:location": "eastus2",
      "modelkeys:resourceGroupName": "rg",
      "modelkeys:accountName": "acct",
      "modelkeys:deployments": deployments,
    });
    expect(readStackConfig()).toMatchObject({
      location: "eastus2",
      sku: "S0",
      publicNetworkAccess: "Enabled",
    });
  });

  it("names each missing or invalid key", () => {
    configure({ "modelkeys:allowedAddresses": ["nope"], "modelkeys:deployments": [] });
    expect(() => readStackConfig()).toThrow(
      /modelkeys:resourceGroupName: .*modelkeys:location \(or azure-native:location\).*modelkeys:accountName.*modelkeys:allowedAddresses\[0\]: "nope".*modelkeys:deployments: at least one/,
    );
  });
});
