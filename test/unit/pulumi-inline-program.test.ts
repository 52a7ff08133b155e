// The operator's real inline program under Pulumi's mock runtime: a ProviderConnection-shaped account and
// its deployments become the AzureOpenAIAccount graph, and the program's outputs satisfy the contract the
// automation runner parses (keys secret). The engine tests use a cloud-free program; this closes the gap.
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { AccountSpec } from "../../operator/azure/provisioner.ts";

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "azure-native:cognitiveservices:Account") {
        const properties = args.inputs.properties as Record<string, unknown>;
        state.name = args.inputs.accountName;
        state.properties = {
          ...properties,
          endpoint: `https://${properties.customSubDomainName}.openai.azure.com/`,
        };
      }
      if (args.type === "azure-native:cognitiveservices:Deployment") state.name = args.inputs.deploymentName;
      if (args.type === "azure-native:resources:ResourceGroup") state.name = args.inputs.resourceGroupName;
      return { id: `${args.name}-id`, state };
    },
    call: (args) =>
      args.token === "azure-native:cognitiveservices:listAccountKeys"
        ? { key1: "mock-key-1", key2: "mock-key-2" }
        : {},
  },
  "modelkeys-azure",
  "rg-llm.acme-openai-00000000",
  false,
);

const { azureOpenAIProgram, ProgramOutputs } = await import("../../operator/azure/inline-program.ts");
const { componentSpecFor } = await import("../../operator/azure/component-spec.ts");
const { ProvisionInputError } = await import("../../operator/azure/provisioner.ts");

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

const account: AccountSpec = {
  accountName: "acme-openai",
  resourceGroupName: "rg-llm",
  location: "swedencentral",
  createResourceGroup: true,
  customSubDomainName: "acme-llm",
  sku: "S0",
  publicNetworkAccess: "Enabled",
  networkRules: {
    defaultAction: "Deny",
    ipRules: ["198.51.100.7"],
    virtualNetworkSubnetIds: [],
    allowPrivateRanges: false,
  },
};
const deployments = [
  { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: { name: "GlobalStandard", capacity: 30 } },
];

describe("the operator's inline program", () => {
  it("builds the account graph from the connection's fields and outputs what the runner parses", async () => {
    const spec = componentSpecFor(account, deployments);
    const program = azureOpenAIProgram({ account: spec, stack: "rg-llm.acme-openai-00000000" });
    const outputs = (await program()) as Record<string, pulumi.Output<unknown>>;
    const values: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(outputs)) values[key] = await resolved(output);
    expect(ProgramOutputs.parse(values)).toEqual({
      endpoint: "https://acme-llm.openai.azure.com/",
      accountName: "acme-openai",
      deploymentNames: ["gpt-4o"],
      allowedAddresses: ["3.219.3.197", "34.237.73.3", "44.216.17.242", "198.51.100.7"],
      primaryKey: "mock-key-1",
      secondaryKey: "mock-key-2",
    });
    expect(await pulumi.isSecret(outputs.primaryKey as pulumi.Output<string>)).toBe(true);
    expect(await pulumi.isSecret(outputs.secondaryKey as pulumi.Output<string>)).toBe(true);
    expect(registered.map((r) => [r.type, r.name])).toEqual([
      ["modelkeys:azure:OpenAIAccount", "acme-openai"],
      ["azure-native:resources:ResourceGroup", "acme-openai-rg"],
      ["azure-native:cognitiveservices:Account", "acme-openai-account"],
      ["azure-native:cognitiveservices:Deployment", "acme-openai-gpt-4o"],
    ]);
    expect(registered[1]?.inputs).toEqual({ resourceGroupName: "rg-llm", location: "swedencentral" });
    expect(registered[2]?.inputs).toMatchObject({ location: "swedencentral", resourceGroupName: "rg-llm" });
  });

  it("refuses an invalid account naming each field of the shared schema", () => {
    const attempt = () =>
      componentSpecFor(
        {
          ...account,
          accountName: "-bad-",
          resourceGroupName: "",
          networkRules: { ...account.networkRules, ipRules: ["10.0.0.1/8"] },
        },
        [{ name: "d", model: "gpt-4o" } as never],
      );
    expect(attempt).toThrow(ProvisionInputError);
    expect(attempt).toThrow(
      /accountName: letters, digits and '-'.*resourceGroupName: .*networkRules\.ipRules\[0\]: "10\.0\.0\.1\/8" has host bits set.*deployments\[0\]\.version: /,
    );
  });
});
