// The benchmarks' own cluster: a local control plane in a temporary directory with the install manifest
// (CRDs, namespace, RBAC) applied, and admin and operator-identity clients. Never TEST_KUBECONFIG's cluster.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import { REPO_ROOT, startControlPlane } from "../../local/controlplane/controlplane.ts";
import { applyManifests, crdNames, waitForCrdsEstablished } from "../../local/controlplane/kubectl.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { KubeClient } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import { waitFor } from "../support/wait.ts";
import { processCpuSeconds } from "./process-cpu.ts";

const INSTALL_MANIFEST = join(REPO_ROOT, "dist", "install.yaml");
/** The install's finalizer policy at the version this control plane serves (see cdk8s/finalizer-policy.ts). */
const FINALIZER_POLICY = join(REPO_ROOT, "dist", "finalizer-policy-v1beta1.yaml");

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
  const stop = async () => {
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const options = { kubectlPath: controlPlane.kubectlPath, kubeconfig: controlPlane.kubeconfigPath };
    await applyManifests([INSTALL_MANIFEST], options);
    await waitForCrdsEstablished(await crdNames([INSTALL_MANIFEST]), options);
    if (policy) await applyManifests([FINALIZER_POLICY], options);
  } catch (error) {
    await stop();
    throw error;
  }
  const adminKc = kubeConfig(controlPlane.kubeconfigPath);
  const core = adminKc.makeApiClient(CoreV1Api);
  const custom = adminKc.makeApiClient(CustomObjectsApi);
  if (policy)
    await policyInForce(custom).catch(async (error) => {
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
    stop,
  };
}

/** Waits until a create (a dry run) gets the finalizer: the API server loads policies from a watch of its own. */
async function policyInForce(custom: CustomObjectsApi): Promise<void> {
  await waitFor(
    async () => {
      const admitted = (await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: "default",
        plural: "providerconnections",
        dryRun: "All",
        body: {
          apiVersion: API_VERSION,
          kind: "ProviderConnection",
          metadata: { name: "policy-probe" },
          spec: {
            organizationRef: { name: "probe" },
            provider: "Custom",
            custom: { name: "m", endpoint: "http://probe.invalid/v1" },
          },
        },
      })) as ProviderConnection;
      return admitted.metadata.finalizers?.includes(FINALIZER) ?? false;
    },
    { timeoutMs: 30_000, description: "the finalizer policy in force" },
  );
}
