// The values the integration global setup hands to every test file through vitest's provide/inject.

/** Where the shared cluster is and how to reach it. */
export interface ProvidedControlPlane {
  kubeconfigPath: string;
  operatorKubeconfigPath: string;
  kubectlPath: string;
  /** Empty when TEST_KUBECONFIG points at an existing cluster. */
  logDir: string;
  /** True when the tests run against TEST_KUBECONFIG's cluster rather than the local control plane. */
  external: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ProvidedControlPlane;
  }
}
