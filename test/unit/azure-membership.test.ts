// Which ProviderConnections share an Azure account and what its stack holds: aggregation, agreement and
// deletion rules as tables over plain connections.
import { describe, expect, it } from "vitest";
import type { ProviderConnection, ProviderConnectionSpec } from "../../crds/index.ts";
import { type Membership, membershipOf } from "../../operator/azure/membership.ts";
import { stackNameFor } from "../../operator/azure/stack-name.ts";
import { FINALIZER } from "../../operator/constants.ts";

type Provision = NonNullable<NonNullable<ProviderConnectionSpec["azure"]>["provision"]>;
type AccountOverrides = Partial<Provision["account"]>;

interface Options {
  namespace?: string;
  created?: string;
  account?: AccountOverrides;
  deployment?: Partial<Provision["deployment"]>;
  allowedAddresses?: string[];
  subnets?: string[];
  policy?: "Delete" | "Orphan";
  deleting?: boolean;
}

function conn(name: string, options: Options = {}): ProviderConnection {
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: {
      name,
      namespace: options.namespace ?? "ml",
      uid: `uid-${name}`,
      creationTimestamp: options.created ?? "2026-11-01T00:00:00Z",
      finalizers: [FINALIZER],
      ...(options.deleting ? { deletionTimestamp: "2026-11-20T00:00:00Z" } : {}),
    },
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      deletionPolicy: options.policy ?? "Delete",
      refreshInterval: "1h",
      azure: {
        provision: {
          account: {
            name: "acme-openai",
            resourceGroup: "rg-llm",
            createResourceGroup: false,
            location: "eastus",
            publicNetworkAccess: "Enabled",
            sku: "S0",
            credentialsSecretRef: { name: "azure-sp" },
            ...options.account,
          },
          deployment: {
            model: "gpt-4o",
            version: "2024-11-20",
            sku: { name: "Standard", capacity: 10 },
            ...options.deployment,
          },
          allowedAddresses: options.allowedAddresses ?? [],
          virtualNetworkSubnetIds: options.subnets ?? [],
        },
      },
    },
  };
}

const member = (m: Membership) => {
  if (m.kind !== "Member") throw new Error(`expected a member, got: ${m.message}`);
  return m;
};
const names = (m: Membership) => member(m).keep?.deployments.map((d) => d.name);

describe("one stack per account", () => {
  it("aggregates the deployments of every connection naming the account, sorted by name", () => {
    const a = conn("gpt-4o", { created: "2026-11-01T00:00:00Z" });
    const b = conn("mini", { created: "2026-11-02T00:00:00Z", deployment: { model: "gpt-4o-mini" } });
    const other = conn("elsewhere", { account: { name: "other-openai" } });
    const m = member(membershipOf(b, [a, b, other]));
    expect(m.stack).toBe(stackNameFor({ accountName: "acme-openai", resourceGroupName: "rg-llm" }));
    expect(m.keep?.deployments).toEqual([
      {
        name: "gpt-4o",
        model: "gpt-4o",
        version: "2024-11-20",
        sku: { name: "Standard", capacity: 10 },
        retainOnDelete: false,
      },
      {
        name: "mini",
        model: "gpt-4o-mini",
        version: "2024-11-20",
        sku: { name: "Standard", capacity: 10 },
        retainOnDelete: false,
      },
    ]);
    expect(m.members.map((c) => c.metadata.name)).toEqual(["gpt-4o", "mini"]);
    // Both connections compute the same update.
    expect(member(membershipOf(a, [a, b, other])).keep?.key).toBe(m.keep?.key);
  });

  it("matches the account case-insensitively, as Azure does", () => {
    const a = conn("a");
    const b = conn("b", { account: { name: "ACME-openai", resourceGroup: "RG-llm" } });
    expect(names(membershipOf(b, [a, b]))).toEqual(["a", "b"]);
  });

  it("takes the deployment name from the spec, else the connection's name", () => {
    const a = conn("a", { deployment: { name: "prod-4o" } });
    expect(member(membershipOf(a, [a])).deployment.name).toBe("prod-4o");
  });

  it("unions the allowed addresses and subnets of the account's connections", () => {
    const subnet =
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a";
    const a = conn("a", { allowedAddresses: ["203.0.113.10", "198.51.100.0/24"] });
    const b = conn("b", { allowedAddresses: ["203.0.113.10", "192.0.2.1"], subnets: [subnet] });
    const account = member(membershipOf(a, [a, b])).keep?.account;
    expect(account?.networkRules.ipRules).toEqual(["192.0.2.1", "198.51.100.0/24", "203.0.113.10"]);
    expect(account?.networkRules.virtualNetworkSubnetIds).toEqual([subnet]);
  });

  it("uses the live copy of the reconciled connection over the cache's", () => {
    const cached = conn("a", { deployment: { version: "2024-08-06" } });
    const live = conn("a", { deployment: { version: "2024-11-20" } });
    expect(member(membershipOf(live, [cached])).keep?.deployments.map((d) => d.version)).toEqual([
      "2024-11-20",
    ]);
  });
});

describe("connections that cannot join the account (the later one is rejected)", () => {
  const first = conn("first", { created: "2026-11-01T00:00:00Z" });
  const cases: [string, ProviderConnection, RegExp][] = [
    [
      "another location",
      conn("later", { created: "2026-11-02T00:00:00Z", account: { location: "westus" } }),
      /location "eastus" there, "westus" here/,
    ],
    [
      "another subdomain",
      conn("later", { created: "2026-11-02T00:00:00Z", account: { customSubDomainName: "acme2" } }),
      /customSubDomainName/,
    ],
    [
      "other credentials",
      conn("later", {
        created: "2026-11-02T00:00:00Z",
        account: { credentialsSecretRef: { name: "other-sp" } },
      }),
      /credentialsSecretRef/,
    ],
    [
      "another SKU and public access",
      conn("later", {
        created: "2026-11-02T00:00:00Z",
        account: { sku: "S1", publicNetworkAccess: "Disabled" },
      }),
      /publicNetworkAccess .*; sku /,
    ],
    [
      "another namespace",
      conn("later", { created: "2026-11-02T00:00:00Z", namespace: "team-b" }),
      /must be in one namespace/,
    ],
    [
      "a deployment name taken (any case)",
      conn("later", { created: "2026-11-02T00:00:00Z", deployment: { name: "FIRST" } }),
      /deployment name "FIRST" .* taken by ProviderConnection ml\/first/,
    ],
  ];

  it.each(cases)("%s", (_label, later, message) => {
    const verdict = membershipOf(later, [first, later]);
    expect(verdict.kind).toBe("Rejected");
    expect(verdict.kind === "Rejected" && verdict.message).toMatch(message);
    expect(verdict.kind === "Rejected" && verdict.message).toContain("ml/first");
    // The earlier connection keeps the account to itself.
    expect(names(membershipOf(first, [first, later]))).toEqual(["first"]);
  });

  it("rejects an invalid deployment on its own, without touching the others", () => {
    const bad = conn("bad", { created: "2026-11-02T00:00:00Z", deployment: { name: "-nope" } });
    const verdict = membershipOf(bad, [first, bad]);
    expect(verdict).toMatchObject({
      kind: "Rejected",
      message: expect.stringMatching(/^invalid deployment: deployment\.name/),
    });
    expect(names(membershipOf(first, [first, bad]))).toEqual(["first"]);
  });

  it("orders by age, then namespace and name, so every reconcile agrees", () => {
    const x = conn("x", { created: "2026-11-05T00:00:00Z", account: { location: "westus" } });
    const y = conn("y", { created: "2026-11-05T00:00:00Z" });
    expect(membershipOf(x, [x, y]).kind).toBe("Member");
    expect(membershipOf(y, [x, y]).kind).toBe("Rejected");
  });
});

describe("deleting connections", () => {
  const a = conn("a", { created: "2026-11-01T00:00:00Z" });

  it("a deleting Delete connection leaves the stack; the rest stays", () => {
    const b = conn("b", { created: "2026-11-02T00:00:00Z", deleting: true });
    const m = member(membershipOf(b, [a, b]));
    expect(m.keep?.deployments.map((d) => d.name)).toEqual(["a"]);
    expect(m.deployment.name).toBe("b");
  });

  it("the last Delete connection leaves nothing to keep (the account is destroyed)", () => {
    const b = conn("b", { deleting: true });
    expect(member(membershipOf(b, [b])).keep).toBeUndefined();
  });

  it("an Orphan connection's deployment is retained, and kept while it is deleting", () => {
    const b = conn("b", { created: "2026-11-02T00:00:00Z", policy: "Orphan", deleting: true });
    const m = member(membershipOf(b, [a, b]));
    expect(m.keep?.deployments.map((d) => [d.name, d.retainOnDelete])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    expect(m.rest?.deployments.map((d) => d.name)).toEqual(["a"]);
  });

  it("the last Orphan connection has no rest: nothing is removed", () => {
    const b = conn("b", { policy: "Orphan", deleting: true });
    expect(member(membershipOf(b, [b])).rest).toBeUndefined();
  });

  it("a Delete connection leaving beside a deleting Orphan one keeps only the Orphan's (retained)", () => {
    const b = conn("b", { created: "2026-11-02T00:00:00Z", deleting: true });
    const c = conn("c", { created: "2026-11-03T00:00:00Z", policy: "Orphan", deleting: true });
    expect(member(membershipOf(b, [b, c])).keep?.deployments.map((d) => [d.name, d.retainOnDelete])).toEqual([
      ["c", true],
    ]);
  });
});
