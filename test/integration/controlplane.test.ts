// Proves the shared control plane is a real kube-apiserver: the pinned version, persistence through etcd,
// RBAC that treats the operator's certificate as its ServiceAccount, watches, and the CRDs installed.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ApiException, type V1ConfigMap, VersionApi, Watch } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { INSTALL } from "../../cdk8s/names.ts";
import { pinnedVersions } from "../../local/controlplane/binaries.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { crdNames } from "../../local/controlplane/kubectl.ts";
import { testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

const cluster = testCluster();
let namespace: string;

beforeAll(async () => {
  namespace = await cluster.createTestNamespace("controlplane");
});

async function operatorMay(verb: string, resource: string, group = ""): Promise<boolean> {
  const review = await cluster.operator.authorization.createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: { namespace, verb, resource, group } } },
  });
  return review.status?.allowed === true;
}

describe("the local control plane", () => {
  it.skipIf(cluster.paths.external)("runs the pinned kube-apiserver", async () => {
    const version = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(pinnedVersions().kubernetes);
  });

  it("stores a namespaced object and reads it back", async () => {
    const data = { model: "gpt-4o", note: `written at ${new Date().toISOString()}` };
    const created = await cluster.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "round-trip" }, data },
    });
    const read = await cluster.core.readNamespacedConfigMap({ namespace, name: "round-trip" });
    expect(read.data).toEqual(data);
    expect(read.metadata?.uid).toBe(created.metadata?.uid);

    const { stdout } = await cluster.kubectl([
      "get",
      "configmap",
      "round-trip",
      "-n",
      namespace,
      "-o",
      "json",
    ]);
    expect(JSON.parse(stdout).data).toEqual(data);
  });

  it("authenticates the operator's certificate as its ServiceAccount", async () => {
    const review = await cluster.operator.authentication.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(INSTALL.serviceAccountUser);
    expect(review.status?.userInfo?.groups).toContain(`system:serviceaccounts:${INSTALL.namespace}`);
  });

  it("denies the operator identity until a binding grants it", async () => {
    expect(await operatorMay("list", "configmaps")).toBe(false);
    const canI = await cluster.kubectl(["auth", "can-i", "list", "configmaps", "-n", namespace], {
      kubeconfig: cluster.paths.operatorKubeconfigPath,
    });
    expect({ code: canI.code, answer: canI.stdout.trim() }).toEqual({ code: 1, answer: "no" });
    const denied = await cluster.operator.core
      .listNamespacedConfigMap({ namespace })
      .catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ApiException);
    expect((denied as ApiException<unknown>).code).toBe(403);

    await cluster.rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: "read-configmaps" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
      },
    });
    await cluster.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "operator-reads-configmaps" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-configmaps" },
        subjects: [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace }],
      },
    });
    // The RBAC authorizer reads bindings from an informer cache, so the grant lands shortly after the write.
    await waitFor(() => operatorMay("list", "configmaps"), { description: "the RoleBinding to take effect" });
    await expect(cluster.operator.core.listNamespacedConfigMap({ namespace })).resolves.toBeDefined();
    expect(await operatorMay("delete", "configmaps")).toBe(false);
  });

  it("delivers watch events", async () => {
    const events: Array<{ type: string; name: string | undefined }> = [];
    const watch = new Watch(cluster.kubeConfig);
    const controller = await watch.watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      {},
      (type, object: V1ConfigMap) => events.push({ type, name: object.metadata?.name }),
      () => undefined,
    );
    try {
      await cluster.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "watched" } } });
      await waitFor(() => events.some((event) => event.type === "ADDED" && event.name === "watched"), {
        timeoutMs: 10_000,
        description: "an ADDED event for the watched ConfigMap",
      });
      await cluster.core.deleteNamespacedConfigMap({ namespace, name: "watched" });
      await waitFor(() => events.some((event) => event.type === "DELETED" && event.name === "watched"), {
        timeoutMs: 10_000,
        description: "a DELETED event for the watched ConfigMap",
      });
    } finally {
      controller.abort();
    }
  });

  it("has the CRDs from crds/ installed and Established", async () => {
    const dir = join(REPO_ROOT, "crds");
    const files = (await readdir(dir)).filter((name) => /^modelkeys\.dev_.*\.yaml$/.test(name));
    const names = await crdNames(files.map((name) => join(dir, name)));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const crd = await cluster.apiextensions.readCustomResourceDefinition({ name });
      const established = crd.status?.conditions?.find((condition) => condition.type === "Established");
      expect(established?.status, name).toBe("True");
    }
  });

  it("installs the operator's RBAC from dist/install.yaml on demand", async () => {
    await cluster.installOperatorRbac();
    await cluster.installOperatorRbac(); // once per file; a second call is free
    await cluster.core.readNamespacedServiceAccount({
      namespace: INSTALL.namespace,
      name: INSTALL.serviceAccount,
    });
    await waitFor(() => operatorMay("watch", "providerconnections", "modelkeys.dev"), {
      description: "the operator's ClusterRoleBinding to take effect",
    });
    expect(await operatorMay("delete", "namespaces")).toBe(false);
  });
});
