// dist/install.yaml applies to a real API server with the README's one command, and the operator's
// ServiceAccount can do what the operator needs and nothing more: `kubectl auth can-i` as the operator,
// both ways, plus real requests that prove the answers.
import { readFileSync } from "node:fs";
import { ApiException } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { INSTALL } from "../../cdk8s/names.ts";
import { PROVISIONING_ROLE } from "../../cdk8s/rbac.ts";
import { createLeaderElector } from "../../operator/leader.ts";
import { INSTALL_MANIFEST, TEST_NAMESPACE_LABEL, testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

const cluster = testCluster();
const SYSTEM = INSTALL.namespace;
let other: string;

const installed = parseAllDocuments(readFileSync(INSTALL_MANIFEST, "utf8"))
  .map((doc) => doc.toJS() as { kind: string; metadata: { name: string; namespace?: string } } | null)
  .filter((object) => object !== null);

/** `kubectl get` arguments naming every installed object, one kind at a time. */
function installedRefs(): string[] {
  return installed.map((object) => {
    const ref = `${object.kind.toLowerCase()}/${object.metadata.name}`;
    return object.metadata.namespace ? `${object.metadata.namespace}|${ref}` : ref;
  });
}

/** The resourceVersion of every installed object, as the admin reads it. */
async function resourceVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const ref of installedRefs()) {
    const [namespace, name] = ref.includes("|") ? (ref.split("|") as [string, string]) : [undefined, ref];
    const args = ["get", name, "-o", "jsonpath={.metadata.resourceVersion}"];
    const result = await cluster.kubectl(namespace ? [...args, "-n", namespace] : args);
    expect(result.code, `${ref}: ${result.stderr}`).toBe(0);
    versions[ref] = result.stdout;
  }
  return versions;
}

/** `kubectl auth can-i <args>` as the operator's identity: true for "yes", false for "no". */
async function operatorCan(args: string[]): Promise<boolean> {
  const result = await cluster.kubectl(["auth", "can-i", ...args], {
    kubeconfig: cluster.paths.operatorKubeconfigPath,
  });
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

const PCONN = "providerconnections.modelkeys.dev";
const ORG = "organizations.modelkeys.dev";
const AOAI = "azureopenaiaccounts.modelkeys.dev";
const LEASES = "leases.coordination.k8s.io";

beforeAll(async () => {
  other = await cluster.createTestNamespace("rbac");
  // The harness's own apply (field manager modelkeys-harness) goes first, so that a later one from another
  // test file is a no-op and cannot move a resourceVersion between the two applies below.
  await cluster.installOperatorRbac();
});

describe("dist/install.yaml", () => {
  it("applies cleanly with `kubectl apply --server-side -f dist/install.yaml`, then again without a change", async () => {
    const first = await cluster.kubectl(["apply", "--server-side", "-f", INSTALL_MANIFEST]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const applied = first.stdout.trim().split("\n");
    expect(applied).toHaveLength(installed.length);
    for (const line of applied) expect(line).toMatch(/ serverside-applied$/);

    // The namespace enforces (and warns about) Pod Security "restricted": a warning would be on stderr.
    expect(first.stderr).not.toMatch(/PodSecurity/);

    const before = await resourceVersions();
    const second = await cluster.kubectl(["apply", "--server-side", "-f", INSTALL_MANIFEST]);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: "" });
    expect(await resourceVersions()).toEqual(before);
  });

  it("puts the operator's namespace under Pod Security restricted, which its Deployment meets", async () => {
    const deployment = await cluster.kubectl([
      "get",
      "deployment",
      INSTALL.serviceAccount,
      "-n",
      SYSTEM,
      "-o",
      "json",
    ]);
    expect(deployment.code).toBe(0);
    const object = JSON.parse(deployment.stdout);
    delete object.metadata.managedFields;
    delete object.metadata.resourceVersion;
    const container = object.spec.template.spec.containers[0];
    container.securityContext.allowPrivilegeEscalation = true;
    container.securityContext.capabilities = { add: ["NET_ADMIN"] };
    // The admission check is live: the same Deployment, loosened, draws the warning on a server dry run.
    const loosened = await cluster.kubectl(
      ["apply", "--server-side", "--dry-run=server", "--force-conflicts", "-f", "-"],
      {
        input: JSON.stringify(object),
      },
    );
    expect(loosened.code).toBe(0);
    expect(loosened.stderr).toMatch(/would violate PodSecurity "restricted:latest"/);
  });
});

describe("the operator's ServiceAccount", () => {
  // Each row: what the operator does (or must not do), and `kubectl auth can-i` arguments. `{other}` is a
  // namespace the tests made, standing for any namespace that holds connections.
  const allowed: [string, string[]][] = [
    ["watches connections in every namespace", ["watch", PCONN, "-A"]],
    ["lists organizations in every namespace", ["list", ORG, "-A"]],
    ["reads a connection", ["get", PCONN, "-n", "{other}"]],
    ["patches a connection's finalizers", ["patch", PCONN, "-n", "{other}"]],
    ["patches a connection's status", ["patch", PCONN, "--subresource=status", "-n", "{other}"]],
    ["updates an organization's status", ["update", ORG, "--subresource=status", "-n", "{other}"]],
    [
      "may set blockOwnerDeletion towards a connection",
      ["update", PCONN, "--subresource=finalizers", "-n", "{other}"],
    ],
    ["watches AzureOpenAIAccounts in every namespace", ["watch", AOAI, "-A"]],
    ["patches an account's finalizers", ["patch", AOAI, "-n", "{other}"]],
    ["patches an account's status", ["patch", AOAI, "--subresource=status", "-n", "{other}"]],
    [
      "may set blockOwnerDeletion towards an account",
      ["update", AOAI, "--subresource=finalizers", "-n", "{other}"],
    ],
    ["lists Secrets in every namespace (one metadata-only watch)", ["list", "secrets", "-A"]],
    ["watches a Secret", ["watch", "secrets", "-n", "{other}"]],
    ["reads a Secret", ["get", "secrets", "-n", "{other}"]],
    ["creates its owned Azure Secret", ["create", "secrets", "-n", "{other}"]],
    ["sets the Organization token's finalizer on a Secret", ["patch", "secrets", "-n", "{other}"]],
    ["deletes its owned Azure Secret", ["delete", "secrets", "-n", "{other}"]],
    ["records Events", ["create", "events", "-n", "{other}"]],
    ["aggregates a repeated Event into the one recorded (count)", ["patch", "events", "-n", "{other}"]],
    ["creates the Lease", ["create", LEASES, "-n", SYSTEM]],
    ["renews its Lease", ["update", `${LEASES}/${INSTALL.leaseName}`, "-n", SYSTEM]],
    ["reads its Lease", ["get", `${LEASES}/${INSTALL.leaseName}`, "-n", SYSTEM]],
    ["locks a Pulumi stack with a Lease (provisioning)", ["create", LEASES, "-n", "{other}"]],
    ["takes a stack's Lease over (provisioning)", ["update", `${LEASES}/pulumi-state-x`, "-n", "{other}"]],
    ["releases a stack's Lease (provisioning)", ["delete", `${LEASES}/pulumi-state-x`, "-n", "{other}"]],
    [
      "lists the catalogue ConfigMap by name",
      ["list", `configmaps/${INSTALL.catalogueConfigMap}`, "-n", SYSTEM],
    ],
    [
      "watches the catalogue ConfigMap by name",
      ["watch", `configmaps/${INSTALL.catalogueConfigMap}`, "-n", SYSTEM],
    ],
  ];
  const denied: [string, string[]][] = [
    ["delete a connection (users own them)", ["delete", PCONN, "-n", "{other}"]],
    ["create a connection", ["create", PCONN, "-n", "{other}"]],
    ["delete an AzureOpenAIAccount (users own them)", ["delete", AOAI, "-n", "{other}"]],
    ["create an AzureOpenAIAccount", ["create", AOAI, "-n", "{other}"]],
    ["delete all organizations", ["deletecollection", ORG, "-A"]],
    ["create pods", ["create", "pods", "-n", "{other}"]],
    ["read pods", ["get", "pods", "-A"]],
    ["get nodes", ["get", "nodes"]],
    // With provisioning it may get, create, update and delete Leases (the Pulumi stacks' locks), nothing more.
    ["list Leases", ["list", LEASES, "-n", "{other}"]],
    ["watch Leases", ["watch", LEASES, "-A"]],
    ["patch a Lease", ["patch", `${LEASES}/kube-scheduler`, "-n", SYSTEM]],
    ["list ConfigMaps cluster-wide", ["list", "configmaps", "-A"]],
    ["list every ConfigMap of its namespace", ["list", "configmaps", "-n", SYSTEM]],
    ["read another ConfigMap of its namespace", ["get", "configmaps/kube-root-ca.crt", "-n", SYSTEM]],
    // It watches the catalogue: a GET per model check was one request per connection at a fleet's start.
    [
      "get the catalogue ConfigMap (it watches it)",
      ["get", `configmaps/${INSTALL.catalogueConfigMap}`, "-n", SYSTEM],
    ],
    ["write the catalogue ConfigMap", ["update", `configmaps/${INSTALL.catalogueConfigMap}`, "-n", SYSTEM]],
    ["create ClusterRoleBindings", ["create", "clusterrolebindings.rbac.authorization.k8s.io"]],
    ["create RoleBindings", ["create", "rolebindings.rbac.authorization.k8s.io", "-n", "{other}"]],
    ["escalate a ClusterRole", ["escalate", "clusterroles.rbac.authorization.k8s.io"]],
    ["bind a ClusterRole", ["bind", "clusterroles.rbac.authorization.k8s.io"]],
    ["impersonate users", ["impersonate", "users"]],
    ["mint ServiceAccount tokens", ["create", "serviceaccounts", "--subresource=token", "-n", SYSTEM]],
    ["change the CRDs", ["patch", "customresourcedefinitions.apiextensions.k8s.io"]],
    ["create namespaces", ["create", "namespaces"]],
    ["write events.k8s.io Events (it uses core v1)", ["create", "events.events.k8s.io", "-n", "{other}"]],
    ["change its own Deployment", ["patch", "deployments.apps", "-n", SYSTEM]],
    ["do anything anywhere", ["*", "*", "-A"]],
  ];
  const withNamespace = (args: string[]) => args.map((arg) => (arg === "{other}" ? other : arg));

  it.each(allowed)("can: %s", async (_what, args) => {
    expect(await operatorCan(withNamespace(args))).toBe(true);
  });

  it.each(denied)("cannot: %s", async (_what, args) => {
    expect(await operatorCan(withNamespace(args))).toBe(false);
  });

  it("is bound by exactly its two ClusterRoleBindings and two RoleBindings (the second of each: provisioning)", async () => {
    const user = INSTALL.serviceAccountUser;
    const subjectIsOperator = (subjects: { kind: string; name: string; namespace?: string }[] = []) =>
      subjects.some(
        (s) =>
          (s.kind === "ServiceAccount" && s.name === INSTALL.serviceAccount && s.namespace === SYSTEM) ||
          (s.kind === "User" && s.name === user),
      );
    const clusterBindings = (await cluster.rbac.listClusterRoleBinding()).items.filter((b) =>
      subjectIsOperator(b.subjects),
    );
    expect(clusterBindings.map((b) => b.roleRef.name).sort()).toEqual([
      INSTALL.clusterRole,
      PROVISIONING_ROLE,
    ]);
    // Grants a test made for itself (labelled so, e.g. replicas.test.ts's Lease names) are not the install's.
    const bindings = (await cluster.rbac.listRoleBindingForAllNamespaces()).items.filter(
      (b) => subjectIsOperator(b.subjects) && b.metadata?.labels?.[TEST_NAMESPACE_LABEL] !== "true",
    );
    expect(
      bindings.map((b) => `${b.metadata?.namespace}/${b.roleRef.kind}/${b.roleRef.name}`).sort(),
    ).toEqual([`${SYSTEM}/Role/${INSTALL.serviceAccount}`, `${SYSTEM}/Role/${PROVISIONING_ROLE}`]);
  });

  it("elects itself leader with the operator's own Lease code in its namespace, and lists no Leases", async () => {
    const { coordination } = cluster.operator;
    const elector = createLeaderElector({
      kc: cluster.operator.kube,
      namespace: SYSTEM,
      name: INSTALL.leaseName,
      identity: "rbac-test",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 200,
    });
    const stop = new AbortController();
    let leading = false;
    const running = elector.run(stop.signal, {
      onStartedLeading: () => {
        leading = true;
      },
      onStoppedLeading: () => {
        leading = false;
      },
    });
    try {
      await waitFor(() => leading, { description: "the operator identity to acquire its Lease" });
      const held = await coordination.readNamespacedLease({ namespace: SYSTEM, name: INSTALL.leaseName });
      expect(held.spec?.holderIdentity).toBe("rbac-test");
    } finally {
      await elector.release();
      stop.abort();
      await running;
    }
    const released = await coordination.readNamespacedLease({ namespace: SYSTEM, name: INSTALL.leaseName });
    expect(released.spec?.holderIdentity ?? "").toBe("");

    // With provisioning (the default) it also locks Pulumi stacks with Leases where it watches (get, create,
    // update, delete; refused without provisioning: rbac-modes.test.ts), but never lists or watches Leases.
    expect(await statusCode(coordination.listNamespacedLease({ namespace: other }))).toBe(403);
    expect(await statusCode(coordination.listNamespacedLease({ namespace: SYSTEM }))).toBe(403);
    await cluster.coordination.deleteNamespacedLease({ namespace: SYSTEM, name: INSTALL.leaseName });
  });

  it("watches one Secret by name, may list the catalogue ConfigMap by name (never 403), and cannot touch pods", async () => {
    const { core } = cluster.operator;
    await cluster.core.createNamespacedSecret({
      namespace: other,
      body: { metadata: { name: "openai" }, stringData: { "api-key": "sk-rbac-test-canary" } },
    });
    const listed = await core.listNamespacedSecret({
      namespace: other,
      fieldSelector: "metadata.name=openai",
    });
    expect(listed.items.map((s) => s.metadata?.name)).toEqual(["openai"]);
    // Allowed to list it by name (what its watch does): an empty list while absent; never 403.
    expect(
      await statusCode(
        core.listNamespacedConfigMap({
          namespace: SYSTEM,
          fieldSelector: `metadata.name=${INSTALL.catalogueConfigMap}`,
        }),
      ),
    ).toBe(200);
    expect(await statusCode(core.listNamespacedPod({ namespace: other }))).toBe(403);
    expect(
      await statusCode(
        cluster.operator.custom.deleteNamespacedCustomObject({
          group: "modelkeys.dev",
          version: "v1alpha1",
          namespace: other,
          plural: "providerconnections",
          name: "anything",
        }),
      ),
    ).toBe(403);
  });
});
