// The Helm chart generated from the cdk8s install, checked with real Helm (local/tools): it lints, renders the same
// objects as dist/install.yaml at its defaults, puts every value where it belongs, and installs then upgrades into a
// control plane of its own (a shared one already holds the install's cluster-scoped objects, owned by no release).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CHART_DIR, objectsOf } from "../../cdk8s/helm-chart.ts";
import {
  finalizerPolicyManifest,
  INSTALL_YAML,
  type InstallProps,
  installManifest,
} from "../../cdk8s/install.ts";
import { type ControlPlane, startControlPlane } from "../../local/controlplane/controlplane.ts";
import { runTool } from "../../local/tools/index.ts";

const helm = async (args: string[]) => {
  const result = await runTool("helm", args, {
    env: { ...process.env, HELM_CACHE_HOME: work, HELM_CONFIG_HOME: work, HELM_DATA_HOME: work },
  });
  if (result.code !== 0) throw new Error(`helm ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
};
const work = mkdtempSync(join(tmpdir(), "modelkeys-helm-"));
type Obj = ReturnType<typeof objectsOf>[number];
/** The parts of the rendered Deployment the values reach. */
interface RenderedDeployment {
  metadata: { namespace: string };
  spec: {
    replicas: number;
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: Record<string, unknown> & {
        containers: {
          image: string;
          imagePullPolicy: string;
          resources: unknown;
          env: { name: string; value?: string }[];
        }[];
      };
    };
  };
}
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const byKey = (objects: Obj[]) => new Map(objects.map((o) => [key(o), o]));

/** Values far from the defaults, one per documented value. */
const CUSTOM = {
  image: {
    repository: "registry.example/mk",
    tag: "ignored",
    digest: `sha256:${"a".repeat(64)}`,
    pullPolicy: "Always",
    pullSecrets: [{ name: "regcred" }],
  },
  replicas: 1,
  resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "2", memory: "512Mi" } },
  nodeSelector: { "kubernetes.io/os": "linux" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "ops", effect: "NoSchedule" }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }],
      },
    },
  },
  podAnnotations: { "example.com/team": "ml" },
  watchNamespaces: ["ml-platform", "ml-research"],
  azureProvisioning: { enabled: false },
  logLevel: "debug",
  pulumi: { backendUrl: "azblob://state", passphraseSecret: { name: "pp", key: "secret" } },
  networkPolicy: { enabled: true },
  createNamespace: false,
};

describe("the chart", () => {
  it("passes helm lint", async () => {
    expect(await helm(["lint", CHART_DIR])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders at its defaults the same objects as dist/install.yaml, CRDs from crds/", async () => {
    const rendered = await helm([
      "template",
      "modelkeys",
      CHART_DIR,
      "--namespace",
      "modelkeys-system",
      "--include-crds",
    ]);
    const install = byKey(objectsOf(readFileSync(INSTALL_YAML, "utf8")));
    const chart = byKey(objectsOf(rendered));
    expect([...chart.keys()].sort()).toEqual([...install.keys()].sort());
    for (const [name, object] of install) expect(chart.get(name), name).toEqual(object);
  });

  it("puts every non-default value where it belongs", async () => {
    const valuesFile = join(work, "custom.yaml");
    writeFileSync(valuesFile, stringify(CUSTOM));
    const objects = objectsOf(
      await helm(["template", "mk", CHART_DIR, "--namespace", "ops", "-f", valuesFile]),
    );
    const deployment = objects.find((o) => o.kind === "Deployment") as unknown as RenderedDeployment;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    if (!container) throw new Error("the Deployment has no container");
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
    );
    expect(deployment.metadata.namespace).toBe("ops");
    expect(deployment.spec.replicas).toBe(1);
    expect(container.image).toBe(`registry.example/mk@${CUSTOM.image.digest}`);
    expect(container.imagePullPolicy).toBe("Always");
    expect(container.resources).toEqual(CUSTOM.resources);
    expect(pod.imagePullSecrets).toEqual(CUSTOM.image.pullSecrets);
    expect(pod.nodeSelector).toEqual(CUSTOM.nodeSelector);
    expect(pod.tolerations).toEqual(CUSTOM.tolerations);
    expect(pod.affinity).toEqual(CUSTOM.affinity);
    expect(deployment.spec.template.metadata.annotations).toEqual(CUSTOM.podAnnotations);
    expect(env).toMatchObject({
      MODELKEYS_NAMESPACES: "ml-platform,ml-research",
      MODELKEYS_AZURE_PROVISIONING: "false",
      MODELKEYS_LOG_LEVEL: "debug",
      PULUMI_BACKEND_URL: "azblob://state",
      MODELKEYS_PULUMI_PASSPHRASE_SECRET: "ops/pp/secret",
    });
    const kinds = objects.map((o) => o.kind);
    expect(kinds).toContain("NetworkPolicy");
    expect(kinds).not.toContain("PodDisruptionBudget"); // one replica
    expect(kinds).not.toContain("Namespace");
    // Namespaced: bound in each watched namespace, never cluster-wide; the subject is in the release's namespace.
    expect(kinds).not.toContain("ClusterRoleBinding");
    const bindings = objects.filter(
      (o) => o.kind === "RoleBinding" && o.metadata.namespace?.startsWith("ml-"),
    ) as unknown as { metadata: { namespace: string }; subjects: { namespace: string }[] }[];
    expect(bindings.map((o) => o.metadata.namespace).sort()).toEqual(["ml-platform", "ml-research"]);
    for (const binding of bindings) expect(binding.subjects[0]?.namespace).toBe("ops");
    // No provisioning: no Secret create, update or delete anywhere.
    const secretVerbs = objects
      .filter((o) => o.kind === "ClusterRole" || o.kind === "Role")
      .flatMap((o) => (o.rules as { resources: string[]; verbs: string[] }[]) ?? [])
      .filter((rule) => rule.resources.includes("secrets"))
      .flatMap((rule) => rule.verbs);
    expect(secretVerbs).not.toContain("create");
    expect(secretVerbs).not.toContain("update");
    expect(secretVerbs).not.toContain("delete");
  });

  it("gives the release namespace's Lease the leader-election priority, unless leasePriority.enabled is false", async () => {
    type FlowSchema = Obj & {
      spec: {
        priorityLevelConfiguration: { name: string };
        rules: {
          subjects: { serviceAccount: { namespace: string } }[];
          resourceRules: { namespaces: string[] }[];
        }[];
      };
    };
    const render = async (...set: string[]) =>
      objectsOf(await helm(["template", "mk", CHART_DIR, "--namespace", "ops", ...set])).filter(
        (o) => o.kind === "FlowSchema",
      ) as FlowSchema[];
    const [schema, ...others] = await render();
    expect(others).toEqual([]);
    expect(schema?.spec.priorityLevelConfiguration.name).toBe("leader-election");
    expect(schema?.spec.rules[0]?.subjects[0]?.serviceAccount.namespace).toBe("ops");
    expect(schema?.spec.rules[0]?.resourceRules[0]?.namespaces).toEqual(["ops"]);
    expect(await render("--set", "leasePriority.enabled=false")).toEqual([]);
  });

  it("adds the finalizer policy at the version the cluster serves, bound to the watched namespaces", async () => {
    const served = (version: string) => [
      "--api-versions",
      `admissionregistration.k8s.io/${version}/MutatingAdmissionPolicy`,
      "--api-versions",
      `admissionregistration.k8s.io/${version}/MutatingAdmissionPolicyBinding`,
    ];
    const render = async (...args: string[]) =>
      objectsOf(await helm(["template", "mk", CHART_DIR, "--namespace", "ops", ...args])).filter((o) =>
        o.kind.startsWith("MutatingAdmissionPolicy"),
      );
    const expected = (version: "v1" | "v1beta1", namespaces?: string[]) =>
      objectsOf(finalizerPolicyManifest(version, namespaces));
    expect(await render(...served("v1"))).toEqual(expected("v1"));
    expect(await render(...served("v1beta1"))).toEqual(expected("v1beta1"));
    // Both served (a 1.36 cluster with v1beta1 still on): v1.
    expect(await render(...served("v1beta1"), ...served("v1"))).toEqual(expected("v1"));
    expect(await render(...served("v1"), "--set", "watchNamespaces={team-a,team-b}")).toEqual(
      expected("v1", ["team-a", "team-b"]),
    );
    // A cluster without the API (helm template's own defaults), or switched off: no policy.
    expect(await render()).toEqual([]);
    expect(await render(...served("v1"), "--set", "finalizerPolicy.enabled=false")).toEqual([]);
  });

  it("renders each install mode as the cdk8s install in that mode renders it", async () => {
    const modes: [Record<string, unknown>, InstallProps][] = [
      [{ watchNamespaces: ["team-a", "team-b"] }, { watchNamespaces: ["team-a", "team-b"] }],
      [{ azureProvisioning: { enabled: false } }, { azureProvisioning: false }],
      [
        { watchNamespaces: ["team-a"], azureProvisioning: { enabled: false } },
        { watchNamespaces: ["team-a"], azureProvisioning: false },
      ],
    ];
    for (const [values, props] of modes) {
      const valuesFile = join(work, "mode.yaml");
      writeFileSync(valuesFile, stringify(values));
      const rendered = await helm([
        "template",
        "modelkeys",
        CHART_DIR,
        "--namespace",
        "modelkeys-system",
        "--include-crds",
        "-f",
        valuesFile,
      ]);
      const install = byKey(objectsOf(installManifest(props)));
      const chart = byKey(objectsOf(rendered));
      expect([...chart.keys()].sort(), JSON.stringify(values)).toEqual([...install.keys()].sort());
      for (const [name, object] of install) expect(chart.get(name), name).toEqual(object);
    }
  });
});

describe("helm install, then upgrade", () => {
  let controlPlane: ControlPlane;
  let kubeconfig: string;
  const kubectl = async (args: string[]) => {
    const { runKubectl } = await import("../../local/controlplane/kubectl.ts");
    const result = await runKubectl(controlPlane.kubectlPath, args, { kubeconfig });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const versions = async () => {
    const list = JSON.parse(
      await kubectl([
        "get",
        "deployment,service,serviceaccount,role,rolebinding,poddisruptionbudget",
        "-n",
        "modelkeys",
        "-o",
        "json",
      ]),
    );
    return Object.fromEntries(
      list.items.map((o: Obj & { metadata: { resourceVersion: string } }) => [
        key(o),
        o.metadata.resourceVersion,
      ]),
    );
  };

  beforeAll(async () => {
    controlPlane = await startControlPlane({
      logDir: join(work, "controlplane"),
      kubeconfigPath: join(work, "kubeconfig"),
      operatorKubeconfigPath: join(work, "operator-kubeconfig"),
    });
    kubeconfig = controlPlane.kubeconfigPath;
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });

  it("creates the objects, and an upgrade changing one value changes only the object that holds it", async () => {
    // The namespace exists first (as a user creates it, or --create-namespace with createNamespace=false): the
    // chart's own Namespace, which `helm template` renders, then stays out of the way.
    await kubectl(["create", "namespace", "modelkeys"]);
    await helm(["install", "modelkeys", CHART_DIR, "--namespace", "modelkeys", "--kubeconfig", kubeconfig]);
    expect(await kubectl(["get", "crd", "providerconnections.modelkeys.dev", "-o", "name"])).toContain(
      "providerconnections",
    );
    const before = await versions();
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining([
        "Deployment/modelkeys/modelkeys-operator",
        "ServiceAccount/modelkeys/modelkeys-operator",
        "PodDisruptionBudget/modelkeys/modelkeys-operator",
      ]),
    );
    // This API server serves MutatingAdmissionPolicy (v1beta1): the chart installs the finalizer policy there.
    expect(
      await kubectl([
        "get",
        "mutatingadmissionpolicies.v1beta1.admissionregistration.k8s.io,mutatingadmissionpolicybindings.v1beta1.admissionregistration.k8s.io",
        "-o",
        "name",
      ]),
    ).toMatch(
      /mutatingadmissionpolicy.*modelkeys-connection-finalizer[\s\S]*binding.*modelkeys-connection-finalizer/,
    );

    await helm([
      "upgrade",
      "modelkeys",
      CHART_DIR,
      "--namespace",
      "modelkeys",
      "--reuse-values",
      "--set",
      "logLevel=debug",
      "--kubeconfig",
      kubeconfig,
    ]);
    const after = await versions();
    const changed = Object.keys(after).filter((name) => after[name] !== before[name]);
    expect(changed).toEqual(["Deployment/modelkeys/modelkeys-operator"]);
    const deployment = JSON.parse(
      await kubectl(["get", "deployment", "modelkeys-operator", "-n", "modelkeys", "-o", "json"]),
    );
    const env = deployment.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "MODELKEYS_LOG_LEVEL", value: "debug" });
  });
});
