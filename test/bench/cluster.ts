// The benchmarks' own cluster: a local control plane in a temporary directory with the install manifest
// (CRDs, namespace, RBAC) applied, and admin and operator-identity clients. Never TEST_KUBECONFIG's cluster.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { FINALIZER_POLICY_YAML } from "../../cdk8s/install.ts";
import type { ProviderConnection } from "../../crds/index.ts";
import { REPO_ROOT, startControlPlane } from "../../local/controlplane/controlplane.ts";
import {
  applyManifests,
  applyManifestText,
  crdNames,
  waitForCrdsEstablished,
} from "../../local/controlplane/kubectl.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { KubeClient } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import { waitFor } from "../support/wait.ts";
import { customConnectionRequest } from "./fleet.ts";
import { processCpuSeconds } from "./process-cpu.ts";

const INSTALL_MANIFEST = join(REPO_ROOT, "dist", "install.yaml");
/** The install's finalizer policy at the version this control plane serves (see cdk8s/finalizer-policy.ts). */
const FINALIZER_POLICY = FINALIZER_POLICY_YAML.v1beta1;

export interface BenchCluster {
  /** Admin (system:masters): the benchmark's own setup. */
  admin: { kc: KubeConfig; kube: KubeClient; core: CoreV1Api; custom: CustomObjectsApi };
  /** The operator's identity, under the install's RBAC (the operator's own client). */
  operatorKc: KubeClient;
  /** The file `operatorKc` was loaded from (for an operator process). */
  operatorKubeconfigPath: string;
  /** The API server's audit log (JSON lines, one per write), with `auditLog`; removed with the cluster. */
  auditLogPath?: string;
  /** Milliseconds from start to a ready API server with the install applied. */
  startupMs: number;
  /** CPU seconds etcd and kube-apiserver have used so far (Linux). */
  cpuSeconds(): number;
  /** Creates a namespace `<prefix>-<random>` and returns its name. */
  createNamespace(prefix: string): Promise<string>;
  /** Applies a YAML stream server-side, as admin (kubectl). */
  apply(manifest: string): Promise<void>;
  stop(): Promise<void>;
}

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/**
 * Starts etcd and kube-apiserver with state under a new temporary directory and applies dist/install.yaml; with
 * `auditLog`, the API server also writes an audit line per write request to `auditLogPath`, in that directory;
 * with `finalizerPolicy`, also the finalizer's admission policy, in force when this returns.
 */
export async function startBenchCluster(
  options: { auditLog?: boolean; finalizerPolicy?: boolean } = {},
): Promise<BenchCluster> {
  if (!existsSync(INSTALL_MANIFEST)) {
    throw new Error(`${INSTALL_MANIFEST} does not exist: run \`npm run synth\` to generate it`);
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "modelkeys-bench-"));
  const auditLogPath = options.auditLog ? join(dir, "audit.log") : undefined;
  const { TEST_KUBECONFIG: _ignored, ...env } = process.env;
  const controlPlane = await startControlPlane({
    kubeconfigPath: join(dir, "kubeconfig"),
    operatorKubeconfigPath: join(dir, "operator.kubeconfig"),
    logDir: join(dir, "logs"),
    env,
    ...(auditLogPath ? { auditLogPath } : {}),
    // MODELKEYS_BENCH_APISERVER_ARGS: more kube-apiserver flags, e.g. low in-flight limits that answer 429.
    apiServerArgs: (process.env.MODELKEYS_BENCH_APISERVER_ARGS ?? "").split(" ").filter(Boolean),
  });
  const policy = options.finalizerPolicy ?? false;
  const kubectl = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
  const stop = async () => {
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await applyManifests([INSTALL_MANIFEST], kubectl);
    await waitForCrdsEstablished(await crdNames([INSTALL_MANIFEST]), kubectl);
    if (policy) await applyManifests([FINALIZER_POLICY], kubectl);
  } catch (error) {
    await stop();
    throw error;
  }
  const adminKc = kubeConfig(controlPlane.kubeconfigPath);
  const core = adminKc.makeApiClient(CoreV1Api);
  const custom = adminKc.makeApiClient(CustomObjectsApi);
  if (policy)
    await finalizerPolicyInForce(custom, "default").catch(async (error) => {
      await stop();
      throw error;
    });
  return {
    admin: {
      kc: adminKc,
      kube: new KubeClient(loadClusterAccess({ file: controlPlane.kubeconfigPath })),
      core,
      custom,
    },
    operatorKc: new KubeClient(loadClusterAccess({ file: controlPlane.operatorKubeconfigPath })),
    operatorKubeconfigPath: controlPlane.operatorKubeconfigPath,
    ...(auditLogPath ? { auditLogPath } : {}),
    startupMs: Date.now() - started,
    cpuSeconds: () => controlPlane.pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    async createNamespace(prefix) {
      const name = `${prefix}-${randomBytes(4).toString("hex")}`;
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    async apply(manifest) {
      await applyManifestText(manifest, kubectl);
    },
    stop,
  };
}

/**
 * Waits until a create in `namespace` (a dry run) gets the finalizer: the API server loads admission policies
 * from a watch of its own, so a policy just applied is not in force at once.
 */
export async function finalizerPolicyInForce(custom: CustomObjectsApi, namespace: string): Promise<void> {
  const probe = customConnectionRequest(namespace, "policy-probe", {
    model: "m",
    endpoint: "http://probe.invalid/v1",
    secret: { name: "probe", key: "key" },
  });
  await waitFor(
    async () => {
      const admitted = (await custom.createNamespacedCustomObject({
        ...probe,
        dryRun: "All",
      })) as ProviderConnection;
      return admitted.metadata.finalizers?.includes(FINALIZER) ?? false;
    },
    { timeoutMs: 30_000, intervalMs: 100, description: "the finalizer policy in force" },
  );
}
