// The install manifest: the committed dist/install.yaml is what the charts synthesize, it applies in
// one go (CRDs first, cluster-scoped objects without a namespace), and the operator's pod is hardened.
import { readFileSync } from "node:fs";
import { App, Chart, Size } from "cdk8s";
import { k8s } from "cdk8s-plus-27";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { INSTALL_YAML, installManifest } from "../../cdk8s/install.ts";
import { INSTALL } from "../../cdk8s/names.ts";
import { EXPLAINED_ROLES } from "../../cdk8s/rbac.ts";
import { canonicalQuantities, renderInstallYaml } from "../../cdk8s/render.ts";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON read back from YAML
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: manifests are plain JSON read back from YAML
  rules?: any[];
}

const parse = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);

const synthesized = installManifest();
const objects = parse(synthesized);
const find = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the install manifest`);
  return found;
};
const deployment = find("Deployment", INSTALL.serviceAccount);
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

const CLUSTER_SCOPED = new Set([
  "CustomResourceDefinition",
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "FlowSchema",
]);

describe("dist/install.yaml", () => {
  it("is what `npm run synth` writes from the charts", () => {
    const committed = readFileSync(INSTALL_YAML, "utf8");
    expect(committed === synthesized, "dist/install.yaml is stale: run `npm run synth` and commit it").toBe(
      true,
    );
  });

  it("orders CRDs first, then the Namespace, then everything that lives in it", () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds.slice(0, 4)).toEqual([
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "CustomResourceDefinition",
      "Namespace",
    ]);
    expect(objects.slice(0, 3).map((o) => o.metadata.name)).toEqual([
      "organizations.modelkeys.dev",
      "providerconnections.modelkeys.dev",
      "azureopenaiaccounts.modelkeys.dev",
    ]);
    const firstNamespaced = objects.findIndex((o) => !CLUSTER_SCOPED.has(o.kind));
    expect(objects.slice(firstNamespaced).every((o) => !CLUSTER_SCOPED.has(o.kind))).toBe(true);
  });

  it("puts namespaced objects in modelkeys-system and no namespace on cluster-scoped ones", () => {
    for (const object of objects) {
      const where = `${object.kind} ${object.metadata.name}`;
      if (CLUSTER_SCOPED.has(object.kind)) expect(object.metadata.namespace, where).toBeUndefined();
      else expect(object.metadata.namespace, where).toBe(INSTALL.namespace);
    }
  });

  it("has the pieces of an install", () => {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const wanted of [
      `Namespace/${INSTALL.namespace}`,
      `ServiceAccount/${INSTALL.serviceAccount}`,
      `ClusterRole/${INSTALL.clusterRole}`,
      `ClusterRoleBinding/${INSTALL.clusterRole}`,
      `Role/${INSTALL.serviceAccount}`,
      `RoleBinding/${INSTALL.serviceAccount}`,
      `Deployment/${INSTALL.serviceAccount}`,
      `Service/${INSTALL.serviceAccount}-metrics`,
      `PodDisruptionBudget/${INSTALL.serviceAccount}`,
      `FlowSchema/${INSTALL.leaseFlowSchema}`,
    ]) {
      expect(present).toContain(wanted);
    }
  });

  it("explains every RBAC rule with a comment in the YAML", () => {
    const ruleCount = Object.values(EXPLAINED_ROLES).reduce((sum, rules) => sum + rules.length, 0);
    const commentsBeforeRules = synthesized.match(/^ {2}# .*\n(?: {2}# .*\n)* {2}- apiGroups:/gm) ?? [];
    expect(commentsBeforeRules).toHaveLength(ruleCount);
    for (const rules of Object.values(EXPLAINED_ROLES)) {
      for (const { why } of rules) expect(why.length).toBeGreaterThan(20);
    }
  });

  it("refuses to render a role with an unexplained rule", () => {
    const app = new App();
    const chart = new Chart(app, "chart");
    new k8s.KubeClusterRole(chart, "role", {
      metadata: { name: "modelkeys-operator" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    });
    expect(() => renderInstallYaml(app, EXPLAINED_ROLES, "header")).toThrow(
      /ClusterRole\/modelkeys-operator: its rules are not the explained ones/,
    );
  });

  it.each([
    ["1024Mi", "1Gi"],
    ["256Mi", "256Mi"],
    ["5120Mi", "5Gi"],
    ["1048576Ki", "1Gi"],
    ["1536Mi", "1536Mi"],
    ["100m", "100m"],
    ["1", "1"],
    ["0Mi", "0Mi"],
  ])("writes the quantity %s as the API server stores it: %s", (written, stored) => {
    expect(canonicalQuantities({ limits: [written] })).toEqual({ limits: [stored] });
  });

  it("leaves out zero values the API server drops, which a second apply manager would see as changes", () => {
    expect(deployment.spec).not.toHaveProperty("minReadySeconds");
    expect(pod).not.toHaveProperty("hostNetwork");
    expect(find("Service", `${INSTALL.serviceAccount}-metrics`).spec).not.toHaveProperty("externalIPs");
    for (const env of container.env.filter(
      (e: { valueFrom?: { fieldRef?: unknown } }) => e.valueFrom?.fieldRef,
    )) {
      expect(env.valueFrom.fieldRef.apiVersion).toBe("v1");
    }
    const quantities = [...synthesized.matchAll(/: ([0-9]+(?:Ki|Mi|Gi))$/gm)].map((match) => match[1]);
    expect(quantities.length).toBeGreaterThan(0);
    for (const quantity of quantities) expect(canonicalQuantities(quantity)).toBe(quantity);
  });

  it("binds the ClusterRole and the Role to the operator's ServiceAccount only", () => {
    const subject = { kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: INSTALL.namespace };
    expect(find("ClusterRoleBinding", INSTALL.clusterRole)).toMatchObject({
      roleRef: { kind: "ClusterRole", name: INSTALL.clusterRole },
      subjects: [subject],
    });
    expect(find("RoleBinding", INSTALL.serviceAccount)).toMatchObject({
      roleRef: { kind: "Role", name: INSTALL.serviceAccount },
      subjects: [subject],
    });
  });

  it("never grants wildcards, pods, nodes, RBAC objects, or deletion of the users' objects", () => {
    const operatorRules = [
      ...(find("ClusterRole", INSTALL.clusterRole).rules ?? []),
      ...(find("Role", INSTALL.serviceAccount).rules ?? []),
    ];
    for (const rule of operatorRules) {
      const text = JSON.stringify(rule);
      expect(text).not.toContain('"*"');
      for (const resource of rule.resources as string[]) {
        expect([
          "pods",
          "nodes",
          "roles",
          "rolebindings",
          "clusterroles",
          "clusterrolebindings",
        ]).not.toContain(resource);
        if (["providerconnections", "organizations", "azureopenaiaccounts"].includes(resource)) {
          expect(rule.verbs).not.toContain("delete");
          expect(rule.verbs).not.toContain("create");
        }
      }
    }
  });
});

describe("the operator Deployment", () => {
  it("runs two replicas with a PodDisruptionBudget keeping one", () => {
    expect(deployment.spec.replicas).toBe(2);
    const pdb = find("PodDisruptionBudget", INSTALL.serviceAccount);
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toEqual(deployment.spec.selector.matchLabels);
  });

  it("runs as a numeric non-root user with the restricted Pod Security profile", () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual(
      expect.objectContaining({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      }),
    );
    expect(container.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.hostNetwork).not.toBe(true);
    expect(find("Namespace", INSTALL.namespace).metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });

  it("sets requests and limits for CPU and memory", () => {
    for (const side of ["requests", "limits"]) {
      expect(container.resources[side].cpu, side).toBeTruthy();
      expect(container.resources[side].memory, side).toBeTruthy();
    }
  });

  it("probes /healthz and /readyz on the health port and exposes metrics through the Service", () => {
    expect(container.livenessProbe.httpGet).toMatchObject({ path: "/healthz", port: INSTALL.healthPort });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: "/readyz", port: INSTALL.healthPort });
    expect(container.ports).toEqual(
      expect.arrayContaining([
        { name: "metrics", containerPort: INSTALL.metricsPort },
        { name: "health", containerPort: INSTALL.healthPort },
      ]),
    );
    const service = find("Service", `${INSTALL.serviceAccount}-metrics`);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([
      { name: "metrics", port: INSTALL.metricsPort, targetPort: INSTALL.metricsPort },
    ]);
  });

  it("runs as the operator's ServiceAccount with its token, and knows its own pod name and namespace", () => {
    expect(pod.serviceAccountName).toBe(INSTALL.serviceAccount);
    expect(pod.automountServiceAccountToken).toBe(true);
    const env = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
    expect(env.POD_NAME.valueFrom.fieldRef.fieldPath).toBe("metadata.name");
    expect(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath).toBe("metadata.namespace");
  });

  it("writes only to /tmp and /var/lib/modelkeys, emptyDirs by default", () => {
    const mounts = Object.fromEntries(
      container.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]),
    );
    expect(Object.keys(mounts).sort()).toEqual(["/tmp", "/var/lib/modelkeys"]);
    const volumes = Object.fromEntries(pod.volumes.map((v: { name: string }) => [v.name, v]));
    expect(volumes[mounts["/tmp"]].emptyDir).toBeDefined();
    expect(volumes[mounts["/var/lib/modelkeys"]].emptyDir).toBeDefined();
  });
});

describe("install props", () => {
  it("take another image, a PersistentVolumeClaim for Pulumi state, and one replica without a PDB", () => {
    const custom = parse(
      installManifest({
        operator: {
          image: "registry.example/modelkeys:dev",
          replicas: 1,
          stateVolume: { persistentVolumeClaim: { size: Size.gibibytes(5), storageClassName: "fast" } },
        },
      }),
    );
    const customDeployment = custom.find((o) => o.kind === "Deployment");
    const customPod = customDeployment?.spec.template.spec;
    expect(customPod.containers[0].image).toBe("registry.example/modelkeys:dev");
    expect(customDeployment?.spec.replicas).toBe(1);
    expect(custom.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
    const claim = custom.find((o) => o.kind === "PersistentVolumeClaim");
    expect(claim?.metadata.namespace).toBe(INSTALL.namespace);
    expect(claim?.spec).toMatchObject({
      accessModes: ["ReadWriteMany"],
      storageClassName: "fast",
      resources: { requests: { storage: "5Gi" } },
    });
    const state = customPod.volumes.find(
      (v: { persistentVolumeClaim?: { claimName: string } }) => v.persistentVolumeClaim,
    );
    expect(state.persistentVolumeClaim.claimName).toBe(claim?.metadata.name);
  });

  it("take an existing claim by name", () => {
    const custom = parse(installManifest({ operator: { stateVolume: { existingClaim: "pulumi-state" } } }));
    const customPod = custom.find((o) => o.kind === "Deployment")?.spec.template.spec;
    expect(customPod.volumes).toContainEqual({
      name: "state",
      persistentVolumeClaim: { claimName: "pulumi-state", readOnly: false },
    });
    expect(custom.some((o) => o.kind === "PersistentVolumeClaim")).toBe(false);
  });
});

describe("install modes", () => {
  const secretVerbs = (manifest: Manifest[]) =>
    manifest
      .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
      .flatMap((o) => o.rules ?? [])
      .filter((rule) => (rule.resources as string[]).includes("secrets"))
      .flatMap((rule) => rule.verbs as string[]);
  const boundCluster = (manifest: Manifest[]) =>
    manifest.filter((o) => o.kind === "ClusterRoleBinding").map((o) => o.metadata.name);

  it("namespaced: binds the operator's roles by a RoleBinding in each watched namespace, never cluster-wide", () => {
    const namespaced = parse(installManifest({ watchNamespaces: ["team-a", "team-b"] }));
    expect(boundCluster(namespaced)).toEqual([]);
    const watched = namespaced.filter(
      (o) => o.kind === "RoleBinding" && o.metadata.namespace !== INSTALL.namespace,
    );
    expect(watched.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      "team-a/modelkeys-operator",
      "team-a/modelkeys-operator-provisioning",
      "team-b/modelkeys-operator",
      "team-b/modelkeys-operator-provisioning",
    ]);
    const env = namespaced.find((o) => o.kind === "Deployment")?.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "MODELKEYS_NAMESPACES", value: "team-a,team-b" });
  });

  it("without provisioning: no Secret create, update or delete anywhere, and the operator is told", () => {
    const off = parse(installManifest({ azureProvisioning: false }));
    expect(new Set(secretVerbs(off))).toEqual(new Set(["get", "list", "watch", "patch"]));
    expect(new Set(secretVerbs(objects))).toEqual(
      new Set(["get", "list", "watch", "patch", "create", "update", "delete"]),
    );
    const env = off.find((o) => o.kind === "Deployment")?.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "MODELKEYS_AZURE_PROVISIONING", value: "false" });
    expect(container.env.map((e: { name: string }) => e.name)).not.toContain("MODELKEYS_AZURE_PROVISIONING");
  });
});
