// A Pulumi consumer (plain node): the packed @modelkeys/pulumi component under Pulumi's mock runtime.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

const registered = [];
// setMocks must be awaited before the component's module is imported.
await pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push(args.type);
      const state = { ...args.inputs };
      if (args.type === "azure-native:cognitiveservices:Account") {
        state.name = args.inputs.accountName;
        state.properties = {
          ...args.inputs.properties,
          endpoint: `https://${args.inputs.properties.customSubDomainName}.openai.azure.com/`,
        };
      }
      if (args.type === "azure-native:cognitiveservices:Deployment") state.name = args.inputs.deploymentName;
      if (args.type === "azure-native:resources:ResourceGroup") state.name = args.inputs.resourceGroupName;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      if (args.token === "azure-native:cognitiveservices:listAccountKeys") return { key1: "k1", key2: "k2" };
      return {};
    },
  },
  "consumer",
  "mock",
  false,
);

const { APP_ADDRESSES, AzureOpenAIAccount, AzureOpenAIAccountArgsError } = await import("@modelkeys/pulumi");
const value = (output) => new Promise((resolve) => output.apply(resolve));

const account = new AzureOpenAIAccount("llm", {
  resourceGroupName: "rg-llm",
  createResourceGroup: true,
  location: "eastus",
  accountName: "acme-openai",
  networkRules: { ipRules: ["203.0.113.10"] },
  deployments: [
    { name: "gpt-4o", model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 1 } },
  ],
});
assert.equal(await value(account.endpoint), "https://acme-openai.openai.azure.com/");
assert.deepEqual(await value(account.deploymentNames), ["gpt-4o"]);
const allowed = await value(account.allowedAddresses);
for (const address of [...APP_ADDRESSES, "203.0.113.10"]) assert.ok(allowed.includes(address), address);
assert.equal(await value(account.primaryKey), "k1");
for (const type of [
  "modelkeys:azure:OpenAIAccount",
  "azure-native:resources:ResourceGroup",
  "azure-native:cognitiveservices:Account",
  "azure-native:cognitiveservices:Deployment",
]) {
  assert.ok(registered.includes(type), `registered ${type}`);
}

// Bad plain arguments: one error naming the field, before anything is registered.
const before = registered.length;
assert.throws(
  () =>
    new AzureOpenAIAccount("bad", {
      resourceGroupName: "rg",
      location: "eastus",
      accountName: "x",
      networkRules: { ipRules: ["10.0.0.0/8"] },
    }),
  (error) =>
    error instanceof AzureOpenAIAccountArgsError &&
    /accountName: .*networkRules\.ipRules\[0\]: "10\.0\.0\.0\/8" overlaps the private or reserved range/.test(
      error.message,
    ),
);
assert.equal(registered.length, before);
console.log(`registered ${registered.length} resources under the mock runtime`);
