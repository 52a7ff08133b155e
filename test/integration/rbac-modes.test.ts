// The least-privilege install modes, proven on a real API server both ways: the RBAC of a namespaced install
// (watching two namespaces) and of an install without Azure provisioning, each bound to a ServiceAccount of its
// own (the shared operator identity keeps the default install), checked with `kubectl auth can-i` and with
// real requests that the API server answers 200 or 403.
import { ApiException, type CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALL } from "../../cdk8s/names.ts";
import { testCluster } from "../support/cluster.ts";
import { installMode, rbacOfMode, removeInstalledModes } from "../support/install-modes.ts";

const cluster = testCluster();
const PCONN = "providerconnections.modelkeys.dev";
const ORG = "organizations.modelkeys.dev";
async function can(user: string, args: string[]): Promise<boolean> {
  const result = await cluster.kubectl(["auth", "can-i", ...args, `--as=${user}`]);
  const answer = result.stdout.trim();
  if (answer !== "yes" && answer !== "no") throw new Error(`can-i ${args.join(" ")}: ${result.stderr}`);
  return answer === "yes";
}

async function statusCode(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

let a: string;
let b: string;
let unwatched: string;

beforeAll(async () => {
  // The default install first (its namespace holds the modes' Roles too), as rbac.test.ts does.
  await cluster.installOperatorRbac();
  [a, b, unwatched] = await Promise.all([
    cluster.createTestNamespace("mode-a"),
    cluster.createTestNamespace("mode-b"),
    cluster.createTestNamespace("mode-c"),
  ]);
  for (const namespace of [a, b, unwatched]) {
    await cluster.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "key" }, stringData: { "api-key": "sk-modes-canary" } },
    });
  }
});

afterAll(removeInstalledModes);

describe("namespaced mode (watchNamespaces: two namespaces)", () => {
  let user: string;
  let core: CoreV1Api;
  const ns = (arg: string) => (arg === "{a}" ? a : arg === "{b}" ? b : arg === "{c}" ? unwatched : arg);
  beforeAll(async () => {
    ({ user, core } = await installMode({ watchNamespaces: [a, b] }, "namespaced", unwatched));
  });

  it.each([
    ["lists Secrets in a watched namespace", ["list", "secrets", "-n", "{a}"]],
    ["reads a Secret in the other watched namespace", ["get", "secrets", "-n", "{b}"]],
    ["watches connections in a watched namespace", ["watch", PCONN, "-n", "{a}"]],
    ["patches an organization's status there", ["patch", ORG, "--subresource=status", "-n", "{b}"]],
    ["records Events there", ["create", "events", "-n", "{a}"]],
    ["creates the provisioned Secret there (provisioning on)", ["create", "secrets", "-n", "{b}"]],
    [
      "locks a Pulumi stack with a Lease there (provisioning on)",
      ["create", "leases.coordination.k8s.io", "-n", "{a}"],
    ],
    [
      "renews its Lease",
      ["update", `leases.coordination.k8s.io/${INSTALL.leaseName}`, "-n", INSTALL.namespace],
    ],
    [
      "reads the Pulumi passphrase",
      ["get", `secrets/${INSTALL.pulumiPassphraseSecret}`, "-n", INSTALL.namespace],
    ],
  ])("can: %s", async (_what, args) => {
    expect(await can(user, args.map(ns))).toBe(true);
  });

  it.each([
    ["list Secrets cluster-wide", ["list", "secrets", "-A"]],
    ["read a Secret in an unwatched namespace", ["get", "secrets", "-n", "{c}"]],
    ["list connections cluster-wide", ["list", PCONN, "-A"]],
    ["watch connections in an unwatched namespace", ["watch", PCONN, "-n", "{c}"]],
    ["record Events in an unwatched namespace", ["create", "events", "-n", "{c}"]],
    ["create a Lease in an unwatched namespace", ["create", "leases.coordination.k8s.io", "-n", "{c}"]],
    ["read other Secrets of the operator's namespace", ["get", "secrets/other", "-n", INSTALL.namespace]],
  ])("cannot: %s", async (_what, args) => {
    expect(await can(user, args.map(ns))).toBe(false);
  });

  it("is answered 200 in its namespaces and 403 elsewhere by the API server", async () => {
    expect(await statusCode(core.listNamespacedSecret({ namespace: a }))).toBe(200);
    expect(await statusCode(core.readNamespacedSecret({ namespace: b, name: "key" }))).toBe(200);
    expect(await statusCode(core.readNamespacedSecret({ namespace: unwatched, name: "key" }))).toBe(403);
    expect(await statusCode(core.listNamespacedSecret({ namespace: unwatched }))).toBe(403);
    expect(await statusCode(core.listSecretForAllNamespaces())).toBe(403);
  });

  it("has no ClusterRoleBinding at all", () => {
    const kinds = rbacOfMode({ watchNamespaces: [a, b] }, "x", { namespace: a, name: "x" }).map(
      (o) => o.kind,
    );
    expect(kinds).not.toContain("ClusterRoleBinding");
    expect(kinds).toContain("RoleBinding");
  });
});

describe("no-provisioning mode (azureProvisioning: false)", () => {
  let user: string;
  let core: CoreV1Api;
  beforeAll(async () => {
    ({ user, core } = await installMode({ azureProvisioning: false }, "noprov", unwatched));
  });

  it.each([
    ["read Secrets anywhere", ["get", "secrets", "-A"], true],
    ["patch a Secret (the Organization token's finalizer)", ["patch", "secrets", "-n", a], true],
    ["create a Secret", ["create", "secrets", "-n", a], false],
    ["update a Secret", ["update", "secrets", "-n", a], false],
    ["delete a Secret", ["delete", "secrets", "-n", a], false],
    ["delete Secrets cluster-wide", ["deletecollection", "secrets", "-A"], false],
    ["create a Secret in the operator's namespace", ["create", "secrets", "-n", INSTALL.namespace], false],
    ["lock a Pulumi stack with a Lease", ["create", "leases.coordination.k8s.io", "-n", a], false],
    [
      "read the Pulumi passphrase",
      ["get", `secrets/${INSTALL.pulumiPassphraseSecret}`, "-n", INSTALL.namespace],
      true,
    ],
  ] as [string, string[], boolean][])("%s: %s", async (_what, args, expected) => {
    // The passphrase row: readable through the cluster-wide read of every Secret, not a Role of its own.
    expect(await can(user, args)).toBe(expected);
  });

  it("is answered 403 by the API server for create, update and delete, and 200 for a metadata patch", async () => {
    const body = { metadata: { name: "new" }, stringData: { k: "v" } };
    expect(await statusCode(core.createNamespacedSecret({ namespace: a, body }))).toBe(403);
    expect(await statusCode(core.deleteNamespacedSecret({ namespace: a, name: "key" }))).toBe(403);
    expect(
      await statusCode(
        core.replaceNamespacedSecret({ namespace: a, name: "key", body: { metadata: { name: "key" } } }),
      ),
    ).toBe(403);
    expect(
      await statusCode(
        core.patchNamespacedSecret(
          { namespace: a, name: "key", body: { metadata: { labels: { touched: "yes" } } } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(200);
  });
});
