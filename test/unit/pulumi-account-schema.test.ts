// The shared account schema (pulumi/account-schema.ts): its defaults, the network rules Azure takes, the private
// ranges that need an explicit allow, and the derived shapes (a connection's deployment, the operator's spec).
import { describe, expect, it } from "vitest";
import { AzureProvisionRef } from "../../crds/provider-blocks.ts";
import {
  AccountSettings,
  ConnectionDeployment,
  Deployment,
  MAX_EXTRA_IP_RULES,
  MAX_IP_RULES,
  NetworkRules,
  networkSummary,
} from "../../pulumi/account-schema.ts";
import { AccountSpec, DeploymentSpec } from "../../pulumi/args.ts";
import { PRIVATE_RANGES, privateRangeOf } from "../../pulumi/network-rules.ts";

const account = { accountName: "acme-ai", resourceGroupName: "rg-llm", location: "eastus" };
const issues = (result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) => (result.error?.issues ?? []).map((issue) => `${issue.path.join(".")}: ${issue.message}`);

describe("AccountSettings", () => {
  it("fills in the defaults: S0, public access Enabled, Deny with no extra rules, no private ranges", () => {
    expect(AccountSettings.parse(account)).toEqual({
      ...account,
      createResourceGroup: false,
      sku: "S0",
      publicNetworkAccess: "Enabled",
      networkRules: {
        defaultAction: "Deny",
        ipRules: [],
        virtualNetworkSubnetIds: [],
        allowPrivateRanges: false,
      },
    });
  });

  it("refuses unknown fields, such as the connection-era allowedAddresses", () => {
    expect(issues(AccountSettings.safeParse({ ...account, allowedAddresses: [] }))).toEqual([
      ': Unrecognized key: "allowedAddresses"',
    ]);
  });
});

describe("NetworkRules", () => {
  it("leaves room for the app's three addresses within Azure's 100 rules", () => {
    expect(MAX_IP_RULES).toBe(100);
    expect(MAX_EXTRA_IP_RULES).toBe(97);
    const rules = (n: number) => Array.from({ length: n }, (_, i) => `203.0.${i}.1`);
    expect(NetworkRules.safeParse({ ipRules: rules(97) }).success).toBe(true);
    expect(NetworkRules.safeParse({ ipRules: rules(98) }).success).toBe(false);
  });

  it.each([
    ["10.20.0.0/16", "10.0.0.0/8"],
    ["172.31.255.255", "172.16.0.0/12"],
    ["192.168.7.0/24", "192.168.0.0/16"],
    ["100.100.0.1", "100.64.0.0/10"],
    ["127.0.0.1", "127.0.0.0/8"],
    ["169.254.169.254", "169.254.0.0/16"],
    ["239.1.1.1", "224.0.0.0/4"],
    ["255.255.255.255", "240.0.0.0/4"],
    ["8.0.0.0/6", "10.0.0.0/8"],
  ])("refuses %s (in or over %s) unless allowPrivateRanges, naming the entry", (rule, range) => {
    expect(issues(NetworkRules.safeParse({ ipRules: ["203.0.113.7", rule] }))).toEqual([
      `ipRules.1: "${rule}" overlaps the private or reserved range ${range}; set networkRules.allowPrivateRanges to admit it`,
    ]);
    expect(NetworkRules.safeParse({ ipRules: [rule], allowPrivateRanges: true }).success).toBe(true);
  });

  it("refuses 0.0.0.0/0 as admitting every address, unless allowPrivateRanges", () => {
    expect(issues(NetworkRules.safeParse({ ipRules: ["0.0.0.0/0"] }))).toEqual([
      'ipRules.0: "0.0.0.0/0" admits every address, private and reserved ranges included; set networkRules.allowPrivateRanges to admit it',
    ]);
    expect(NetworkRules.safeParse({ ipRules: ["0.0.0.0/0"], allowPrivateRanges: true }).success).toBe(true);
  });

  it.each([
    "203.0.113.7",
    "198.51.100.0/24",
    "11.0.0.0/8",
    "172.32.0.0/11",
    "100.128.0.0/9",
    "223.255.255.255",
  ])("accepts the public %s", (rule) => {
    expect(privateRangeOf(rule)).toBeUndefined();
    expect(NetworkRules.safeParse({ ipRules: [rule] }).success).toBe(true);
  });

  it("reports a malformed rule once, not also as a private range", () => {
    expect(issues(NetworkRules.safeParse({ ipRules: ["10.0.0.1/8"] }))).toEqual([
      'ipRules.0: "10.0.0.1/8" has host bits set; the range is 10.0.0.0/8',
    ]);
  });

  it("takes subnet resource IDs in any letter case, and nothing else", () => {
    const subnet =
      "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub/subnets/apps";
    expect(NetworkRules.safeParse({ virtualNetworkSubnetIds: [subnet, subnet.toLowerCase()] }).success).toBe(
      true,
    );
    expect(issues(NetworkRules.safeParse({ virtualNetworkSubnetIds: [`${subnet}/x`] }))[0]).toMatch(
      /^virtualNetworkSubnetIds\.0: must be a subnet resource ID/,
    );
  });

  it("knows each private range it names", () => {
    for (const range of PRIVATE_RANGES) expect(privateRangeOf(range)).toBe(range);
  });
});

describe("the shapes derived from it", () => {
  const deployment = { model: "gpt-4o", version: "2024-11-20" };

  it("a connection's deployment is the account's, with the name optional", () => {
    expect(ConnectionDeployment.parse(deployment)).toEqual({
      ...deployment,
      sku: { name: "Standard", capacity: 10 },
    });
    expect(Deployment.safeParse(deployment).success).toBe(false);
    expect(
      AzureProvisionRef.parse({ accountRef: { name: "acme" }, deployment: { ...deployment, name: "gpt" } }),
    ).toMatchObject({ deployment: { name: "gpt" } });
    expect(
      AzureProvisionRef.safeParse({
        accountRef: { name: "acme" },
        deployment: { ...deployment, sku: { capacity: 0 } },
      }).success,
    ).toBe(false);
  });

  it("the component's spec is the account and its deployments (none is fine), names unique case-insensitively", () => {
    expect(AccountSpec.parse(account).deployments).toEqual([]);
    const one = { name: "gpt", ...deployment };
    expect(AccountSpec.parse({ ...account, deployments: [one] }).deployments).toEqual([
      DeploymentSpec.parse(one),
    ]);
    expect(
      issues(AccountSpec.safeParse({ ...account, deployments: [one, { ...one, name: "GPT" }] })),
    ).toEqual(['deployments: duplicate deployment name "GPT"']);
  });

  it("summarises the network rules for the Network column", () => {
    expect(networkSummary("Deny", 5, 0)).toBe("Deny+5");
    expect(networkSummary("Deny", 3, 2)).toBe("Deny+3,vnet2");
    expect(networkSummary("Allow", 3, 0)).toBe("Allow+3");
  });
});
