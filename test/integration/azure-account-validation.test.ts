// The AzureOpenAIAccount at the real API server: its CEL rules agree with the shared zod schema; a valid account
// is accepted with its defaults filled in; bad subnet ids, private ranges and 0.0.0.0/0 without the allow flag,
// credentials and immutable fields are each refused with a message naming the field; and kubectl shows its columns.
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { MAX_EXTRA_IP_RULES, NetworkRules } from "../../pulumi/account-schema.ts";
import { type TestCluster, testCluster } from "../support/cluster.ts";

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };
type Spec = Record<string, unknown>;

let cluster: TestCluster;
let namespace: string;

async function attempt(args: string[], input?: string): Promise<{ ok: boolean; output: string }> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  return { ok: result.code === 0, output: `${result.stdout}${result.stderr}` };
}

const dryRun = (manifest: Manifest) => attempt(["apply", "--dry-run=server", "-f", "-"], stringify(manifest));
const apply = (manifest: Manifest) => attempt(["apply", "-f", "-"], stringify(manifest));

const SUBNET =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps";

/** A valid account with `spec` merged over a minimal one; `null` removes a field. */
function account(spec: Spec = {}, name = "acme"): Manifest {
  const merged: Spec = { accountName: "acme-ai", resourceGroupName: "rg-llm", location: "eastus" };
  for (const [key, value] of Object.entries(spec)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "AzureOpenAIAccount",
    metadata: { name, namespace },
    spec: merged,
  };
}

const rules = (networkRules: Spec) => account({ networkRules });

const invalid: { name: string; manifest: () => Manifest; field: string; says: RegExp }[] = [
  {
    name: "a subnet id that is not a subnet resource ID",
    manifest: () => rules({ virtualNetworkSubnetIds: [SUBNET, "/subscriptions/x/resourceGroups/rg/vnet"] }),
    field: "spec.networkRules.virtualNetworkSubnetIds[1]",
    says: /must be a subnet resource ID/,
  },
  {
    name: "a subnet id of another resource type",
    manifest: () =>
      rules({ virtualNetworkSubnetIds: [SUBNET.replace("Microsoft.Network", "Microsoft.Compute")] }),
    field: "spec.networkRules.virtualNetworkSubnetIds[0]",
    says: /must be a subnet resource ID/,
  },
  {
    name: "0.0.0.0/0 without allowPrivateRanges",
    manifest: () => rules({ ipRules: ["203.0.113.7", "0.0.0.0/0"] }),
    field: "spec.networkRules.ipRules",
    says: /must not overlap private or reserved ranges .*0\.0\.0\.0\/0 overlaps them all.* unless networkRules\.allowPrivateRanges is true/,
  },
  {
    name: "a private range without allowPrivateRanges",
    manifest: () => rules({ ipRules: ["10.20.0.0/16"] }),
    field: "spec.networkRules.ipRules",
    says: /must not overlap private or reserved ranges .*10\.0\.0\.0\/8.* unless networkRules\.allowPrivateRanges is true/,
  },
  {
    name: "a private address without allowPrivateRanges",
    manifest: () => rules({ ipRules: ["192.168.1.10"] }),
    field: "spec.networkRules.ipRules",
    says: /must not overlap private or reserved ranges .*192\.168\.0\.0\/16/,
  },
  {
    name: "a range that holds a private range",
    manifest: () => rules({ ipRules: ["8.0.0.0/6"] }),
    field: "spec.networkRules.ipRules",
    says: /must not overlap private or reserved ranges/,
  },
  {
    name: "an IP rule that is not an address",
    manifest: () => rules({ ipRules: ["203.0.113.7", "office"] }),
    field: "spec.networkRules.ipRules[1]",
    says: /must be an IPv4 address or CIDR range/,
  },
  {
    name: "an IPv6 IP rule",
    manifest: () => rules({ ipRules: ["2001:db8::/32"] }),
    field: "spec.networkRules.ipRules[0]",
    says: /must be an IPv4 address or CIDR range/,
  },
  {
    name: "a prefix length past 32",
    manifest: () => rules({ ipRules: ["203.0.113.0/33"] }),
    field: "spec.networkRules.ipRules[0]",
    says: /must be an IPv4 address or CIDR range/,
  },
  {
    name: "a CIDR with host bits set",
    manifest: () => rules({ ipRules: ["203.0.113.7/24"] }),
    field: "spec.networkRules.ipRules[0]",
    says: /host bits set/,
  },
  {
    name: "a /31 range",
    manifest: () => rules({ ipRules: ["203.0.113.6/31"] }),
    field: "spec.networkRules.ipRules[0]",
    says: /no \/31 range/,
  },
  {
    name: `more IP rules than ${MAX_EXTRA_IP_RULES} (Azure's 100 minus the app's 3)`,
    manifest: () =>
      rules({ ipRules: Array.from({ length: MAX_EXTRA_IP_RULES + 1 }, (_, i) => `203.0.${i}.1`) }),
    field: "spec.networkRules.ipRules",
    says: /Too many|at most 97/,
  },
  {
    name: "an unknown defaultAction",
    manifest: () => rules({ defaultAction: "Block" }),
    field: "spec.networkRules.defaultAction",
    says: /Unsupported value: "Block"/,
  },
  {
    name: "both credential kinds",
    manifest: () =>
      account({
        credentials: { servicePrincipal: { secretRef: { name: "azure-sp" } }, workloadIdentity: {} },
      }),
    field: "spec.credentials",
    says: /set exactly one of servicePrincipal and workloadIdentity, not both/,
  },
  {
    name: "neither credential kind",
    manifest: () => account({ credentials: {} }),
    field: "spec.credentials",
    says: /set exactly one of servicePrincipal and workloadIdentity/,
  },
  {
    name: "a service principal without its Secret",
    manifest: () => account({ credentials: { servicePrincipal: {} } }),
    field: "spec.credentials.servicePrincipal.secretRef",
    says: /Required/,
  },
  {
    name: "an account name with an underscore",
    manifest: () => account({ accountName: "acme_ai" }),
    field: "spec.accountName",
    says: /should match/,
  },
  {
    name: "no resource group",
    manifest: () => account({ resourceGroupName: null }),
    field: "spec.resourceGroupName",
    says: /Required/,
  },
  {
    name: "a subscription that is not a GUID",
    manifest: () => account({ subscriptionId: "my-subscription" }),
    field: "spec.subscriptionId",
    says: /should match/,
  },
  {
    name: "an unknown deletionPolicy",
    manifest: () => account({ deletionPolicy: "Retain" }),
    field: "spec.deletionPolicy",
    says: /Unsupported value: "Retain"/,
  },
  {
    name: "a state backend of an unknown scheme",
    manifest: () => account({ stateBackend: { url: "https://state.example.com/" } }),
    field: "spec.stateBackend.url",
    says: /should match/,
  },
  {
    name: "a passphrase reference without its key",
    manifest: () => account({ stateBackend: { passphraseSecretRef: { name: "pulumi" } } }),
    field: "spec.stateBackend.passphraseSecretRef.key",
    says: /Required/,
  },
];

beforeAll(async () => {
  cluster = testCluster();
  namespace = await cluster.createTestNamespace("azure-account-validation");
});

describe("a valid AzureOpenAIAccount", () => {
  it("is accepted with the defaults filled in: Deny, no extras, workload identity, Delete, Kubernetes state", async () => {
    const created = await apply(account({}, "defaults"));
    expect(created.ok, created.output).toBe(true);
    const read = await attempt(["get", "aoai", "defaults", "-n", namespace, "-o", "json"]);
    const spec = JSON.parse(read.output).spec;
    expect(spec).toEqual({
      accountName: "acme-ai",
      resourceGroupName: "rg-llm",
      location: "eastus",
      createResourceGroup: false,
      sku: "S0",
      publicNetworkAccess: "Enabled",
      networkRules: {
        defaultAction: "Deny",
        ipRules: [],
        virtualNetworkSubnetIds: [],
        allowPrivateRanges: false,
      },
      credentials: { workloadIdentity: {} },
      deletionPolicy: "Delete",
      stateBackend: {},
    });
  });

  it("accepts public rules, subnets (any letter case), a service principal and a bucket backend", async () => {
    const result = await dryRun(
      account({
        networkRules: {
          ipRules: ["203.0.113.7", "198.51.100.0/24", "52.0.0.0/8", "1.2.3.4/32"],
          virtualNetworkSubnetIds: [SUBNET, SUBNET.toLowerCase()],
        },
        credentials: { servicePrincipal: { secretRef: { name: "azure-sp" } } },
        subscriptionId: "00000000-0000-0000-0000-000000000000",
        deletionPolicy: "Orphan",
        stateBackend: {
          url: "azblob://pulumi-state",
          passphraseSecretRef: { name: "pulumi", key: "passphrase" },
        },
      }),
    );
    expect(result.ok, result.output).toBe(true);
  });

  it("accepts 0.0.0.0/0 and private ranges when networkRules.allowPrivateRanges is true", async () => {
    const result = await dryRun(
      rules({ ipRules: ["0.0.0.0/0", "10.0.0.0/8", "192.168.1.10"], allowPrivateRanges: true }),
    );
    expect(result.ok, result.output).toBe(true);
  });

  it(`accepts ${MAX_EXTRA_IP_RULES} public IP rules (within the CEL cost budget)`, async () => {
    const result = await dryRun(
      rules({ ipRules: Array.from({ length: MAX_EXTRA_IP_RULES }, (_, i) => `203.0.${i}.0/24`) }),
    );
    expect(result.ok, result.output).toBe(true);
  });
});

describe("an invalid AzureOpenAIAccount", () => {
  it.each(invalid)("is rejected: $name", async ({ manifest, field, says }) => {
    const result = await dryRun(manifest());
    expect(result.ok, result.output).toBe(false);
    expect(result.output).toMatch(new RegExp(`(^|[\\s"*])${field.replace(/[.[\]]/g, "\\$&")}(:|")`, "m"));
    expect(result.output).toMatch(says);
  });
});

describe("the API server and the shared zod schema", () => {
  // Each network rule set is judged by both: the CRD's CEL and the zod schema that the Pulumi component and the
  // operator use. They must agree, or an account could pass kubectl apply and fail at the first update.
  const cases: Spec[] = [
    { ipRules: ["203.0.113.7"] },
    { ipRules: ["203.0.113.0/24"] },
    { ipRules: ["1.2.3.4/32"] },
    { ipRules: ["52.0.0.0/8", "8.8.8.8"] },
    { ipRules: ["203.0.113.6/31"] },
    { ipRules: ["203.0.113.7/24"] },
    { ipRules: ["203.0.113.0/33"] },
    { ipRules: ["203.0.113.07"] },
    { ipRules: [" 203.0.113.7"] },
    { ipRules: ["203.0.113"] },
    { ipRules: ["::1"] },
    { ipRules: ["0.0.0.0/0"] },
    { ipRules: ["0.0.0.0/0"], allowPrivateRanges: true },
    { ipRules: ["10.1.2.3"] },
    { ipRules: ["172.31.0.0/16"] },
    { ipRules: ["172.32.0.0/16"] },
    { ipRules: ["100.64.0.1"] },
    { ipRules: ["169.254.1.1"] },
    { ipRules: ["127.0.0.1"] },
    { ipRules: ["224.0.0.1"] },
    { ipRules: ["192.168.0.0/16"], allowPrivateRanges: true },
    { ipRules: ["11.0.0.0/8", "9.0.0.0/8"] },
    { virtualNetworkSubnetIds: [SUBNET] },
    { virtualNetworkSubnetIds: [SUBNET.toUpperCase()] },
    { virtualNetworkSubnetIds: [`${SUBNET}/extra`] },
    { virtualNetworkSubnetIds: [SUBNET.replace("/subnets/", "/subnet/")] },
  ];

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))("agree on %s", async (_label, networkRules) => {
    const zod = NetworkRules.safeParse(networkRules).success;
    const server = await dryRun(rules(networkRules));
    expect(server.ok, `zod says ${zod ? "valid" : "invalid"}; the API server: ${server.output}`).toBe(zod);
  });
});

describe("an existing AzureOpenAIAccount", () => {
  const name = "immutable";

  beforeAll(async () => {
    const created = await apply(
      account(
        { subscriptionId: "00000000-0000-0000-0000-000000000000", customSubDomainName: "acme-ai" },
        name,
      ),
    );
    expect(created.ok, created.output).toBe(true);
  });

  const patch = (spec: Spec) =>
    attempt(["patch", "aoai", name, "-n", namespace, "--type=merge", "-p", JSON.stringify({ spec })]);

  it.each([
    ["accountName", { accountName: "other-ai" }],
    ["resourceGroupName", { resourceGroupName: "rg-other" }],
    ["location", { location: "westeurope" }],
    ["subscriptionId", { subscriptionId: "11111111-1111-1111-1111-111111111111" }],
    ["customSubDomainName", { customSubDomainName: "other-ai" }],
  ])("refuses a change of %s", async (field, spec) => {
    const result = await patch(spec);
    expect(result.ok, result.output).toBe(false);
    expect(result.output).toContain(`spec.${field}`);
    expect(result.output).toMatch(/immutable|cannot change/);
  });

  it("takes a change of the network rules, the SKU and the deletion policy", async () => {
    const result = await patch({
      sku: "S1",
      deletionPolicy: "Orphan",
      networkRules: { ipRules: ["203.0.113.7"] },
    });
    expect(result.ok, result.output).toBe(true);
  });
});

describe("kubectl get aoai", () => {
  const name = "columns";

  beforeAll(async () => {
    const created = await apply(account({ location: "swedencentral" }, name));
    expect(created.ok, created.output).toBe(true);
    // The status subresource is how the account reconciler reports; the columns read from it.
    const status = {
      endpoint: "https://acme-ai.openai.azure.com/",
      ipRules: ["3.219.3.197", "34.237.73.3", "44.216.17.242", "203.0.113.7"],
      networkSummary: "Deny+4",
      deploymentCount: 2,
      deployments: [
        {
          name: "gpt-4o",
          model: "gpt-4o",
          version: "2024-11-20",
          sku: { name: "Standard", capacity: 10 },
          state: "Succeeded",
        },
        { name: "mini", model: "gpt-4o-mini", version: "2024-07-18", state: "Creating" },
      ],
      activeKey: "key1",
      stack: { name: "rg-llm.acme-ai-00000000", lastUpdate: { result: "succeeded", changes: { create: 3 } } },
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Provisioned",
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        },
      ],
    };
    const patched = await attempt([
      "patch",
      "aoai",
      name,
      "-n",
      namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
    expect(patched.ok, patched.output).toBe(true);
  });

  it("shows Location, Endpoint, Deployments, Network, Ready and Age; the Reason with -o wide", async () => {
    const table = (await attempt(["get", "aoai", name, "-n", namespace])).output;
    const [header, row] = table
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(["NAME", "LOCATION", "ENDPOINT", "DEPLOYMENTS", "NETWORK", "READY", "AGE"]);
    expect(row?.slice(0, 6)).toEqual([
      name,
      "swedencentral",
      "https://acme-ai.openai.azure.com/",
      "2",
      "Deny+4",
      "True",
    ]);
    const wide = (await attempt(["get", "aoai", name, "-n", namespace, "-o", "wide"])).output;
    expect(wide.split("\n")[0]).toContain("REASON");
    expect(wide).toContain("Provisioned");
  });

  it("is in the modelkeys category, and kubectl explain reads the shared schema's descriptions", async () => {
    const all = await attempt(["get", "modelkeys", "-n", namespace, "-o", "name"]);
    expect(all.output).toContain(`azureopenaiaccount.modelkeys.dev/${name}`);
    const explained = (
      await attempt(["explain", "aoai.spec.networkRules.allowPrivateRanges"])
    ).output.replace(/\s+/g, " ");
    expect(explained).toContain("Admit IP rules that overlap private or reserved ranges");
  });

  it("shows a new account as Reconciling until the operator first writes status (kstatus)", async () => {
    const created = await apply(account({}, "fresh"));
    expect(created.ok, created.output).toBe(true);
    const read = await attempt([
      "get",
      "aoai",
      "fresh",
      "-n",
      namespace,
      "-o",
      "jsonpath={.status.conditions[0].type}",
    ]);
    expect(read.output).toBe("Reconciling");
  });
});
