// The AzureOpenAIAccount component under Pulumi's mock runtime: the whole resource graph it registers,
// its outputs (keys secret), and the errors it gives for bad arguments.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AzureOpenAIAccountArgs } from "../../pulumi/args.ts";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const invoked: { token: string; inputs: Record<string, unknown> }[] = [];

// setMocks must be awaited before the component module is imported.
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
    call(args) {
      invoked.push({ token: args.token, inputs: args.inputs });
      if (args.token === "azure-native:cognitiveservices:listAccountKeys") {
        return { key1: `key1-of-${args.inputs.accountName}`, key2: `key2-of-${args.inputs.accountName}` };
      }
      return {};
    },
  },
  "modelkeys",
  "unit",
  false,
);

const { AzureOpenAIAccount, AZURE_OPENAI_ACCOUNT_TYPE } = await import("../../pulumi/openai-account.ts");
const { APP_ADDRESSES } = await import("../../labelstudio/app-addresses.ts");

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

function baseArgs(overrides: Partial<AzureOpenAIAccountArgs> = {}): AzureOpenAIAccountArgs {
  return {
    resourceGroupName: "rg-llm",
    location: "eastus",
    accountName: "acme-openai",
    deployments: [
      {
        name: "gpt-4o",
        model: "gpt-4o",
        version: "2024-11-20",
        sku: { name: "GlobalStandard", capacity: 50 },
      },
      {
        name: "mini",
        model: "gpt-4o-mini",
        version: "2024-07-18",
        sku: { name: "Standard", capacity: 5 },
        versionUpgradeOption: "NoAutoUpgrade",
      },
    ],
    ...overrides,
  };
}

/** Builds a component and waits until every child is registered (its outputs depend on all of them). */
async function build(name: string, args: AzureOpenAIAccountArgs) {
  const parents: { type: string; name: string; parent: pulumi.Resource | undefined }[] = [];
  const account = new AzureOpenAIAccount(name, args, {
    transformations: [
      (t) => {
        parents.push({ type: t.type, name: t.name, parent: t.opts.parent });
        return undefined;
      },
    ],
  });
  const outputs = {
    endpoint: await resolved(account.endpoint),
    accountName: await resolved(account.accountName),
    deploymentNames: await resolved(account.deploymentNames),
    primaryKey: await resolved(account.primaryKey),
    secondaryKey: await resolved(account.secondaryKey),
    allowedAddresses: await resolved(account.allowedAddresses),
  };
  const mine = registered.filter((r) => r.name.startsWith(name));
  return { account, outputs, resources: mine, parents };
}

const of = (resources: Registered[], type: string) => resources.filter((r) => r.type === type);
const ACCOUNT = "azure-native:cognitiveservices:Account";
const DEPLOYMENT = "azure-native:cognitiveservices:Deployment";
const RESOURCE_GROUP = "azure-native:resources:ResourceGroup";

beforeEach(() => {
  invoked.length = 0;
});

describe("the resource graph", () => {
  let graph: Awaited<ReturnType<typeof build>>;
  beforeAll(async () => {
    graph = await build(
      "acme",
      baseArgs({ networkRules: { ipRules: ["203.0.113.10", "34.237.73.3", "198.51.100.0/24"] } }),
    );
  });

  it("is the component, one account and one deployment per model, nothing else", () => {
    expect(graph.resources.map((r) => [r.type, r.name])).toEqual([
      [AZURE_OPENAI_ACCOUNT_TYPE, "acme"],
      [ACCOUNT, "acme-account"],
      [DEPLOYMENT, "acme-gpt-4o"],
      [DEPLOYMENT, "acme-mini"],
    ]);
    expect(AZURE_OPENAI_ACCOUNT_TYPE).toBe("modelkeys:azure:OpenAIAccount");
  });

  it("parents every child to the component", () => {
    const children = graph.parents.filter((p) => p.type !== AZURE_OPENAI_ACCOUNT_TYPE);
    expect(children.map((c) => c.name)).toEqual(["acme-account", "acme-gpt-4o", "acme-mini"]);
    for (const child of children) expect(child.parent).toBe(graph.account);
  });

  it("makes an OpenAI account with its subdomain, key auth on and the given SKU default", () => {
    const [account] = of(graph.resources, ACCOUNT);
    expect(account?.inputs).toMatchObject({
      accountName: "acme-openai",
      resourceGroupName: "rg-llm",
      location: "eastus",
      kind: "OpenAI",
      sku: { name: "S0" },
      properties: {
        customSubDomainName: "acme-openai",
        publicNetworkAccess: "Enabled",
        disableLocalAuth: false,
      },
    });
  });

  it("denies by default and allows exactly the app's addresses plus the extras, deduplicated and sorted", () => {
    const [account] = of(graph.resources, ACCOUNT);
    if (!account) throw new Error("no account registered");
    const acls = (account.inputs.properties as { networkAcls: Record<string, unknown> }).networkAcls;
    expect(acls.defaultAction).toBe("Deny");
    expect(acls.ipRules).toEqual([
      { value: "3.219.3.197" },
      { value: "34.237.73.3" },
      { value: "44.216.17.242" },
      { value: "198.51.100.0/24" },
      { value: "203.0.113.10" },
    ]);
    expect(acls.virtualNetworkRules).toEqual([]);
    expect(graph.outputs.allowedAddresses).toEqual(expect.arrayContaining([...APP_ADDRESSES]));
  });

  it("deploys each model with format OpenAI, its version, SKU and capacity", () => {
    const deployments = of(graph.resources, DEPLOYMENT).map((d) => d.inputs);
    expect(deployments).toEqual([
      {
        accountName: "acme-openai",
        resourceGroupName: "rg-llm",
        deploymentName: "gpt-4o",
        properties: { model: { format: "OpenAI", name: "gpt-4o", version: "2024-11-20" } },
        sku: { name: "GlobalStandard", capacity: 50 },
      },
      {
        accountName: "acme-openai",
        resourceGroupName: "rg-llm",
        deploymentName: "mini",
        properties: {
          model: { format: "OpenAI", name: "gpt-4o-mini", version: "2024-07-18" },
          versionUpgradeOption: "NoAutoUpgrade",
        },
        sku: { name: "Standard", capacity: 5 },
      },
    ]);
  });

  it("outputs the endpoint, account name, deployment names and keys", () => {
    expect(graph.outputs).toMatchObject({
      endpoint: "https://acme-openai.openai.azure.com/",
      accountName: "acme-openai",
      deploymentNames: ["gpt-4o", "mini"],
      primaryKey: "key1-of-acme-openai",
      secondaryKey: "key2-of-acme-openai",
    });
  });

  it("marks both keys as secrets and leaves the rest in the clear", async () => {
    expect(await pulumi.isSecret(graph.account.primaryKey)).toBe(true);
    expect(await pulumi.isSecret(graph.account.secondaryKey)).toBe(true);
    expect(await pulumi.isSecret(graph.account.endpoint)).toBe(false);
  });
});

describe("options", () => {
  it("creates the resource group when asked, and puts the account in it", async () => {
    const { resources } = await build(
      "created",
      baseArgs({ resourceGroupName: "rg-new", createResourceGroup: true }),
    );
    expect(of(resources, RESOURCE_GROUP).map((r) => r.inputs)).toEqual([
      { resourceGroupName: "rg-new", location: "eastus" },
    ]);
    expect(of(resources, ACCOUNT)[0]?.inputs.resourceGroupName).toBe("rg-new");
    expect(of(resources, DEPLOYMENT).every((d) => d.inputs.resourceGroupName === "rg-new")).toBe(true);
  });

  it("takes a custom subdomain, SKU, public access and virtual-network rules", async () => {
    const subnet =
      "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub/subnets/apps";
    const { resources } = await build(
      "custom",
      baseArgs({
        accountName: "Acme-Custom",
        customSubDomainName: "acme-sub",
        sku: "S1",
        publicNetworkAccess: "Disabled",
        networkRules: { virtualNetworkSubnetIds: [subnet] },
      }),
    );
    expect(of(resources, ACCOUNT)[0]?.inputs).toMatchObject({
      sku: { name: "S1" },
      properties: {
        customSubDomainName: "acme-sub",
        publicNetworkAccess: "Disabled",
        networkAcls: { defaultAction: "Deny", virtualNetworkRules: [{ id: subnet }] },
      },
    });
  });

  it("defaults the subdomain to the account name lower-cased and the deployment SKU to Standard/10", async () => {
    const { resources } = await build(
      "defaults",
      baseArgs({
        accountName: "Acme-Upper",
        deployments: [{ name: "d1", model: "gpt-4.1", version: "2025-04-14" }],
      }),
    );
    expect(of(resources, ACCOUNT)[0]?.inputs).toMatchObject({
      properties: { customSubDomainName: "acme-upper" },
    });
    expect(of(resources, DEPLOYMENT)[0]?.inputs.sku).toEqual({ name: "Standard", capacity: 10 });
  });

  it("treats an extra equal to an app address, or a /32 of one, as the same rule", async () => {
    const { outputs } = await build(
      "dedup",
      baseArgs({ networkRules: { ipRules: ["44.216.17.242/32", "3.219.3.197"] } }),
    );
    expect(outputs.allowedAddresses).toEqual(["3.219.3.197", "34.237.73.3", "44.216.17.242"]);
  });

  it("admits private ranges and 0.0.0.0/0 only with allowPrivateRanges, and passes defaultAction Allow on", async () => {
    const { resources, outputs } = await build(
      "private",
      baseArgs({
        networkRules: {
          defaultAction: "Allow",
          ipRules: ["10.0.0.0/8", "0.0.0.0/0"],
          allowPrivateRanges: true,
        },
      }),
    );
    expect(outputs.allowedAddresses).toEqual([
      "0.0.0.0/0",
      "3.219.3.197",
      "10.0.0.0/8",
      "34.237.73.3",
      "44.216.17.242",
    ]);
    expect(of(resources, ACCOUNT)[0]?.inputs).toMatchObject({
      properties: { networkAcls: { defaultAction: "Allow" } },
    });
  });

  it("accepts extras as Outputs and still merges them", async () => {
    const { outputs } = await build(
      "outputs",
      baseArgs({ networkRules: { ipRules: pulumi.output(["198.51.100.0/24"]) } }),
    );
    expect(outputs.allowedAddresses).toEqual([
      "3.219.3.197",
      "34.237.73.3",
      "44.216.17.242",
      "198.51.100.0/24",
    ]);
  });
});

describe("bad arguments", () => {
  const cases: [string, Partial<AzureOpenAIAccountArgs>, RegExp][] = [
    [
      "an invalid address",
      { networkRules: { ipRules: ["300.1.2.3"] } },
      /networkRules\.ipRules\[0\]: "300.1.2.3" is not an IPv4/,
    ],
    [
      "a CIDR with host bits",
      { networkRules: { ipRules: ["203.0.113.1/24"] } },
      /host bits set; the range is 203\.0\.113\.0\/24/,
    ],
    ["an IPv6 address", { networkRules: { ipRules: ["2001:db8::1"] } }, /networkRules\.ipRules\[0\]/],
    ["a prefix over 32", { networkRules: { ipRules: ["203.0.113.0/33"] } }, /invalid prefix length/],
    ["a /31 range", { networkRules: { ipRules: ["203.0.113.6/31"] } }, /no \/31 range/],
    [
      "a private range without allowPrivateRanges",
      { networkRules: { ipRules: ["203.0.113.7", "172.20.0.0/16"] } },
      /networkRules\.ipRules\[1\]: "172\.20\.0\.0\/16" overlaps the private or reserved range 172\.16\.0\.0\/12; set networkRules\.allowPrivateRanges/,
    ],
    [
      "0.0.0.0/0 without allowPrivateRanges",
      { networkRules: { ipRules: ["0.0.0.0/0"] } },
      /networkRules\.ipRules\[0\]: "0\.0\.0\.0\/0" admits every address.*allowPrivateRanges/,
    ],
    [
      `more than 97 extra IP rules`,
      { networkRules: { ipRules: Array.from({ length: 98 }, (_, i) => `203.0.${i}.1`) } },
      /networkRules\.ipRules: Too big: expected array to have <=97 items/,
    ],
    [
      "an unknown network field",
      { networkRules: { allowed: [] } as never },
      /networkRules: Unrecognized key: "allowed"/,
    ],
    ["deployments that are not a list", { deployments: "gpt-4o" as never }, /deployments: must be a list/],
    [
      "duplicate deployment names (case-insensitive)",
      {
        deployments: [
          { name: "gpt", model: "gpt-4o", version: "2024-11-20" },
          { name: "GPT", model: "gpt-4.1", version: "2025-04-14" },
        ],
      },
      /duplicate deployment name "GPT"/,
    ],
    ["an account name with a dot", { accountName: "acme.openai" }, /accountName: letters, digits and '-'/],
    ["an upper-case subdomain", { customSubDomainName: "Acme" }, /customSubDomainName: lower-case/],
    ["a bad public access value", { publicNetworkAccess: "Open" as "Enabled" }, /publicNetworkAccess/],
    [
      "a subnet that is not a resource ID",
      { networkRules: { virtualNetworkSubnetIds: ["subnet-1"] } },
      /networkRules\.virtualNetworkSubnetIds\[0\]: must be a subnet resource ID/,
    ],
    [
      "a zero capacity",
      { deployments: [{ name: "d", model: "gpt-4o", version: "1", sku: { capacity: 0 } }] },
      /deployments\[0\]\.sku\.capacity: /,
    ],
    [
      "a deployment name over 64 characters",
      { deployments: [{ name: "d".repeat(65), model: "gpt-4o", version: "1" }] },
      /deployments\[0\]\.name: /,
    ],
    [
      "a missing model version",
      { deployments: [{ name: "dd", model: "gpt-4o" } as never] },
      /deployments\[0\]\.version: required/,
    ],
  ];

  it.each(cases)("refuses %s, naming the field", (_label, overrides, message) => {
    expect(() => new AzureOpenAIAccount("bad", baseArgs(overrides))).toThrow(message);
  });

  it("reports every problem at once", () => {
    const attempt = () =>
      new AzureOpenAIAccount(
        "bad",
        baseArgs({
          networkRules: { ipRules: ["1.2.3"] },
          location: "",
          deployments: [{ name: "d", model: "gpt-4o" } as never],
        }),
      );
    expect(attempt).toThrow(/location: .*networkRules\.ipRules\[0\].*deployments\[0\]\.version: required/);
  });

  it("registers nothing for invalid arguments", () => {
    const before = registered.length;
    expect(() => new AzureOpenAIAccount("nothing", baseArgs({ location: "" }))).toThrow();
    expect(registered.length).toBe(before);
  });
});

describe("deployments", () => {
  it("makes the account alone when there is none (before the first, after the last)", async () => {
    const { resources, outputs } = await build("alone", baseArgs({ deployments: [] }));
    expect(resources.map((r) => r.type)).toEqual([AZURE_OPENAI_ACCOUNT_TYPE, ACCOUNT]);
    expect(outputs.deploymentNames).toEqual([]);
    expect(outputs.primaryKey).toBe("key1-of-acme-openai");
  });

  it("registers one deployment per entry, in order, each after the one before", async () => {
    const entries = ["a", "b", "c", "d", "e"].map((name, i) => ({
      name: `dep-${name}`,
      model: "gpt-4o",
      version: "2024-11-20",
      sku: { capacity: i + 1 },
    }));
    const dependsOn: Record<string, pulumi.Resource[]> = {};
    const account = new AzureOpenAIAccount("many", baseArgs({ deployments: entries }), {
      transformations: [
        (t) => {
          if (t.type === DEPLOYMENT) {
            dependsOn[t.name] = (t.opts.dependsOn ?? []) as pulumi.Resource[];
          }
          return undefined;
        },
      ],
    });
    expect(await resolved(account.deploymentNames)).toEqual(entries.map((e) => e.name));
    const registeredDeployments = of(
      registered.filter((r) => r.name.startsWith("many-")),
      DEPLOYMENT,
    );
    expect(
      registeredDeployments.map((d) => [
        d.inputs.deploymentName,
        (d.inputs.sku as { capacity: number }).capacity,
      ]),
    ).toEqual(entries.map((e) => [e.name, e.sku.capacity]));
    const after: Record<string, string[]> = {};
    for (const [name, resources] of Object.entries(dependsOn)) {
      after[name] = await Promise.all(
        resources.map(async (r) => (await resolved(r.urn)).split("::").pop() ?? ""),
      );
    }
    expect(after).toEqual({
      "many-dep-a": [],
      "many-dep-b": ["many-dep-a"],
      "many-dep-c": ["many-dep-b"],
      "many-dep-d": ["many-dep-c"],
      "many-dep-e": ["many-dep-d"],
    });
  });
});

describe("retained deployments (the operator's deletionPolicy Orphan)", () => {
  it("marks only the deployments asked to be retained with retainOnDelete", async () => {
    const retained: Record<string, boolean | undefined> = {};
    const args = baseArgs();
    const deployments = args.deployments ?? [];
    deployments[1] = { ...deployments[1], name: "mini", retainOnDelete: true } as (typeof deployments)[1];
    const account = new AzureOpenAIAccount("keep", args, {
      transformations: [
        (t) => {
          retained[t.name] = t.opts.retainOnDelete;
          return undefined;
        },
      ],
    });
    await resolved(account.deploymentNames);
    expect(retained["keep-gpt-4o"]).toBeFalsy();
    expect(retained["keep-mini"]).toBe(true);
    expect(retained["keep-account"]).toBeFalsy();
  });
});
