// The standalone program (Pulumi.yaml) under the mock runtime: it reads `modelkeys:*` stack configuration,
// falls back to azure-native:location, and names the configuration key at fault when it is invalid.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";

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

const { stackProgram, readStackConfig, STACK_CONFIG_KEYS } = await import("../../pulumi/stack-program.ts");
const { AccountSettings } = await import("../../pulumi/account-schema.ts");

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
      "modelkeys:networkRules": { ipRules: ["192.0.2.0/24"] },
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
    configure({
      "modelkeys:networkRules": { ipRules: ["nope"] },
      "modelkeys:deployments": [{ name: "d", model: "m" }],
    });
    expect(() => readStackConfig()).toThrow(
      /modelkeys:accountName: .*modelkeys:resourceGroupName: .*modelkeys:location \(or azure-native:location\).*modelkeys:networkRules\.ipRules\[0\]: "nope".*modelkeys:deployments\[0\]\.version: /,
    );
  });

  it("takes Pulumi.yaml's empty defaults as not set", () => {
    configure({
      "azure-native:location": "westeurope",
      "modelkeys:location": "",
      "modelkeys:customSubDomainName": "",
      "modelkeys:networkRules": {},
      "modelkeys:resourceGroupName": "rg",
      "modelkeys:accountName": "acct",
      "modelkeys:deployments": deployments,
    });
    const spec = readStackConfig();
    expect(spec.location).toBe("westeurope");
    expect(spec.customSubDomainName).toBeUndefined();
    expect(spec.networkRules).toEqual({
      defaultAction: "Deny",
      ipRules: [],
      virtualNetworkSubnetIds: [],
      allowPrivateRanges: false,
    });
  });

  it("refuses a modelkeys:* key it does not read, such as the older allowedAddresses", () => {
    configure({
      "modelkeys:resourceGroupName": "rg",
      "modelkeys:accountName": "acct",
      "modelkeys:location": "eastus",
      "modelkeys:allowedAddresses": ["203.0.113.7"],
      "modelkeys:deployments": deployments,
    });
    expect(() => readStackConfig()).toThrow(/modelkeys:allowedAddresses: not a key of this program/);
  });
});

describe("examples/pulumi/Pulumi.dev.yaml", () => {
  it("is a valid configuration for the program", () => {
    const stack = parse(
      readFileSync(new URL("../../examples/pulumi/Pulumi.dev.yaml", import.meta.url), "utf8"),
    ) as { config: Record<string, unknown> };
    configure(stack.config);
    expect(readStackConfig()).toMatchObject({
      accountName: "acme-labelstudio-openai",
      location: "eastus",
      networkRules: { defaultAction: "Deny", ipRules: ["203.0.113.10", "198.51.100.0/24"] },
    });
  });
});

describe("Pulumi.yaml's config declarations", () => {
  const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as {
    config: Record<string, { type: string; default?: unknown; description?: string }>;
  };

  it("declare exactly the keys the program reads, with the same types and a description each", () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(STACK_CONFIG_KEYS).sort());
    for (const [key, type] of Object.entries(STACK_CONFIG_KEYS)) {
      expect(project.config[key]?.type, key).toBe(type);
      expect(project.config[key]?.description, key).toBeTruthy();
    }
  });

  it("give the shared schema's defaults, and none for the required keys", () => {
    const declared = Object.fromEntries(
      Object.entries(project.config).flatMap(([key, value]) =>
        value.default === undefined ? [] : [[`modelkeys:${key}`, value.default]],
      ),
    );
    expect(Object.keys(project.config).filter((key) => project.config[key]?.default === undefined)).toEqual([
      "accountName",
      "resourceGroupName",
      "deployments",
    ]);
    configure({
      ...declared,
      "modelkeys:location": "eastus",
      "modelkeys:accountName": "acct",
      "modelkeys:resourceGroupName": "rg",
      "modelkeys:deployments": deployments,
    });
    const { deployments: _, ...fromDefaults } = readStackConfig();
    expect(fromDefaults).toEqual(
      AccountSettings.parse({ accountName: "acct", resourceGroupName: "rg", location: "eastus" }),
    );
  });
});
