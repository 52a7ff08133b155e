// Names of the installed objects, shared by the install manifests, the local control plane and the tests.
export const INSTALL = {
  namespace: "modelkeys-system",
  serviceAccount: "modelkeys-operator",
  clusterRole: "modelkeys-operator",
  /** The username RBAC gives the operator's ServiceAccount; the local control plane issues a client cert for it. */
  serviceAccountUser: "system:serviceaccount:modelkeys-system:modelkeys-operator",
  /** The leader-election Lease in the operator's namespace; RBAC allows get/update of this name only. */
  leaseName: "modelkeys-operator",
  /** The operator image the install manifest deploys unless told otherwise. */
  image: "ghcr.io/modelkeys/operator:0.1.0",
  metricsPort: 8080,
  healthPort: 8081,
} as const;
