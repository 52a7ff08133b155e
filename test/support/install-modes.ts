// The operator's RBAC in one install mode, bound to a ServiceAccount of a test's own: the shared operator identity
// keeps the default install, while a test proves what a namespaced or no-provisioning install allows.
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { objectsOf } from "../../cdk8s/helm-chart.ts";
import { type InstallProps, installManifest } from "../../cdk8s/install.ts";
import { INSTALL } from "../../cdk8s/names.ts";
import { KubeClient } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import { testCluster } from "./cluster.ts";
import { serviceAccountKubeconfig } from "./plugin.ts";

const RBAC_KINDS = new Set(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);

/** A mode's operator RBAC, renamed with `suffix` and bound to ServiceAccount `namespace/name` instead. */
export function rbacOfMode(
  props: InstallProps,
  suffix: string,
  subject: { namespace: string; name: string },
) {
  return objectsOf(installManifest(props))
    .filter((o) => RBAC_KINDS.has(o.kind) && o.metadata.name.startsWith(INSTALL.clusterRole))
    .map((o) => {
      const renamed = { ...o, metadata: { ...o.metadata, name: `${o.metadata.name}-${suffix}` } };
      if (!o.kind.endsWith("Binding")) return renamed;
      const roleRef = o.roleRef as { name: string };
      return {
        ...renamed,
        roleRef: { ...roleRef, name: `${roleRef.name}-${suffix}` },
        subjects: [{ kind: "ServiceAccount", ...subject }],
      };
    });
}

const applied: { kind: string; name: string }[] = [];

/** Applies a mode's RBAC for a fresh ServiceAccount; returns its username and a kubeconfig with its token. */
export async function installMode(props: InstallProps, suffix: string, home: string) {
  const name = `operator-${suffix}`;
  const kubeconfig = await serviceAccountKubeconfig(home, name);
  const objects = rbacOfMode(props, suffix, { namespace: home, name });
  const cluster = testCluster();
  const result = await cluster.kubectl(["apply", "--server-side", "-f", "-"], {
    input: objects.map((o) => stringify(o)).join("---\n"),
  });
  if (result.code !== 0) throw new Error(`applying the ${suffix} RBAC: ${result.stderr}`);
  for (const o of objects) {
    if (!o.metadata.namespace) applied.push({ kind: o.kind.toLowerCase(), name: o.metadata.name });
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  return {
    user: `system:serviceaccount:${home}:${name}`,
    /** The operator's own client, as this identity. */
    kc: new KubeClient(loadClusterAccess({ file: kubeconfig })),
    core: kubeConfig.makeApiClient(CoreV1Api),
  };
}

/** Deletes the cluster-scoped objects {@link installMode} applied (namespaced ones go with their namespaces). */
export async function removeInstalledModes(): Promise<void> {
  const cluster = testCluster();
  for (const { kind, name } of applied.splice(0)) {
    await cluster.kubectl(["delete", kind, name, "--ignore-not-found"]);
  }
}
