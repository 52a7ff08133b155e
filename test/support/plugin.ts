// Runs the kubectl plugin as users do: a separate process, with a kubeconfig of its own (often a user whose RBAC
// allows only what the plugin needs), either directly or through kubectl's plugin mechanism.
import { execFile } from "node:child_process";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { testCluster } from "./cluster.ts";

/** The plugin's entry file (run by Node, which strips its types). */
export const PLUGIN_ENTRY = join(REPO_ROOT, "kubectl-modelkeys", "bin", "kubectl-modelkeys.ts");

export interface PluginResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<PluginResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Runs `kubectl-modelkeys ARGS` with `kubeconfig` (as KUBECONFIG, as kubectl would hand it on). */
export function runPlugin(args: string[], kubeconfig: string): Promise<PluginResult> {
  return run(process.execPath, [PLUGIN_ENTRY, ...args], { ...process.env, KUBECONFIG: kubeconfig });
}

/** Runs `kubectl modelkeys ARGS`: the plugin found by kubectl on PATH, as after `npm link` or a krew install. */
export function runThroughKubectl(args: string[], kubeconfig: string): Promise<PluginResult> {
  const bin = mkdtempSync(join(tmpdir(), "modelkeys-plugin-"));
  symlinkSync(PLUGIN_ENTRY, join(bin, "kubectl-modelkeys"));
  const path = [bin, dirname(process.execPath), process.env.PATH ?? ""].join(":");
  return run(testCluster().paths.kubectlPath, ["modelkeys", ...args], {
    ...process.env,
    PATH: path,
    KUBECONFIG: kubeconfig,
  });
}

/**
 * A kubeconfig for ServiceAccount `namespace/name` (a bearer token from the TokenRequest API), so the plugin runs
 * with exactly the RBAC the test grants that account. Returns its path.
 */
export async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  const cluster = testCluster();
  await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  const answer = await cluster.core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const admin = cluster.kubeConfig;
  const server = admin.getCurrentCluster();
  if (!server) throw new Error("the admin kubeconfig has no cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [server],
    users: [{ name, token: answer.status?.token ?? "" }],
    contexts: [{ name, cluster: server.name, user: name, namespace }],
    currentContext: name,
  });
  const path = join(mkdtempSync(join(tmpdir(), "modelkeys-user-")), "kubeconfig");
  writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

/** Grants ServiceAccount `namespace/name` a ClusterRole in its namespace, and Events read there. */
export async function grant(namespace: string, name: string, clusterRole: string): Promise<void> {
  const { rbac } = testCluster();
  const subjects = [{ kind: "ServiceAccount", name, namespace }];
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: `${name}-${clusterRole}`, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects,
    },
  });
}

/** Lets ServiceAccount `namespace/name` read Events in its namespace (the built-in view role does). */
export async function grantEvents(namespace: string, name: string): Promise<void> {
  const { rbac } = testCluster();
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: `${name}-events`, namespace },
      rules: [{ apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: `${name}-events`, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${name}-events` },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
}
