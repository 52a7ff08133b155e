// The shared cluster as a test file sees it: admin and operator-identity clients, kubectl, unique
// namespaces, and the operator's install (RBAC) applied on demand.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { inject } from "vitest";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import {
  applyManifests,
  crdNames,
  type KubectlResult,
  runKubectl,
  waitForCrdsEstablished,
} from "../../local/controlplane/kubectl.ts";
import { KubeClient } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import type { ProvidedControlPlane } from "./provided.ts";

/** The install manifest that `npm run synth` writes. */
export const INSTALL_MANIFEST = join(REPO_ROOT, "dist", "install.yaml");

/** Label on every namespace a test creates (on an existing cluster: `kubectl delete ns -l modelkeys.dev/test`). */
export const TEST_NAMESPACE_LABEL = "modelkeys.dev/test";

/** Typed API clients for one identity. */
export interface ClusterClients {
  kubeConfig: KubeConfig;
  /** The operator's own client (operator/kube/client.ts) for the same identity: what operator modules take. */
  kube: KubeClient;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  apiextensions: ApiextensionsV1Api;
  rbac: RbacAuthorizationV1Api;
  authentication: AuthenticationV1Api;
  authorization: AuthorizationV1Api;
  coordination: CoordinationV1Api;
}

/** The shared test cluster, as set up by test/support/global-setup.ts. */
export interface TestCluster extends ClusterClients {
  paths: ProvidedControlPlane;
  /** The same APIs authenticated as the operator's ServiceAccount. */
  operator: ClusterClients;
  /** Runs kubectl as admin (or with another kubeconfig); never throws for a non-zero exit. */
  kubectl(args: string[], options?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** Creates a namespace named `<prefix>-<random>` and returns its name. */
  createTestNamespace(prefix: string): Promise<string>;
  /**
   * Applies dist/install.yaml (namespace, CRDs, ServiceAccount, RBAC, ...) server-side, once per test file.
   * Until then the operator identity has no permissions at all.
   */
  installOperatorRbac(): Promise<void>;
}

function clients(kubeconfigPath: string): ClusterClients {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    kubeConfig,
    kube: new KubeClient(loadClusterAccess({ file: kubeconfigPath })),
    core: kubeConfig.makeApiClient(CoreV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    apiextensions: kubeConfig.makeApiClient(ApiextensionsV1Api),
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
    authentication: kubeConfig.makeApiClient(AuthenticationV1Api),
    authorization: kubeConfig.makeApiClient(AuthorizationV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
  };
}

// A DNS label: lowercase alphanumerics and '-', at most 63 characters.
function namespaceName(prefix: string): string {
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
  return `${base || "test"}-${randomBytes(4).toString("hex")}`;
}

let cluster: TestCluster | undefined;

/** The shared cluster for this test file (created on first call). Only inside the "integration" project. */
export function testCluster(): TestCluster {
  if (cluster) return cluster;
  const paths = inject("controlPlane");
  if (!paths)
    throw new Error("no control plane provided: run integration tests through vitest's integration project");
  const admin = clients(paths.kubeconfigPath);
  const kubectl: TestCluster["kubectl"] = (args, options = {}) =>
    runKubectl(paths.kubectlPath, args, {
      kubeconfig: options.kubeconfig ?? paths.kubeconfigPath,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  let installed: Promise<void> | undefined;
  cluster = {
    ...admin,
    paths,
    operator: clients(paths.operatorKubeconfigPath),
    kubectl,
    async createTestNamespace(prefix) {
      const name = namespaceName(prefix);
      await admin.core.createNamespace({
        body: { metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: "true" } } },
      });
      return name;
    },
    installOperatorRbac() {
      installed ??= (async () => {
        if (!existsSync(INSTALL_MANIFEST)) {
          throw new Error(`${INSTALL_MANIFEST} does not exist: run \`npm run synth\` to generate it`);
        }
        const options = { kubectlPath: paths.kubectlPath, kubeconfig: paths.kubeconfigPath };
        await applyManifests([INSTALL_MANIFEST], options);
        await waitForCrdsEstablished(await crdNames([INSTALL_MANIFEST]), options);
      })();
      installed.catch(() => {
        installed = undefined;
      });
      return installed;
    },
  };
  return cluster;
}
