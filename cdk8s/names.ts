// Names of the installed objects, shared by the install manifests, the local control plane and the tests.
import { IMAGE } from "../operator/version.ts";

export const INSTALL = {
  namespace: "modelkeys-system",
  serviceAccount: "modelkeys-operator",
  clusterRole: "modelkeys-operator",
  /** The username RBAC gives the operator's ServiceAccount; the local control plane issues a client cert for it. */
  serviceAccountUser: "system:serviceaccount:modelkeys-system:modelkeys-operator",
  /** The leader-election Lease in the operator's namespace; RBAC allows get/update of this name only. */
  leaseName: "modelkeys-operator",
  /** The ConfigMap (in the operator's namespace) that overrides the model catalogue; optional. */
  catalogueConfigMap: "modelkeys-model-catalogue",
  /** The Secret (in the operator's namespace) holding the passphrase that encrypts Pulumi state secrets. */
  pulumiPassphraseSecret: "modelkeys-pulumi",
  /** The operator image the install manifest deploys unless told otherwise: tagged with the release version. */
  image: IMAGE,
  metricsPort: 8080,
  healthPort: 8081,
} as const;

/**
 * The operator container's NODE_OPTIONS: a heap cap that makes V8 collect before the pod's memory limit, sized
 * from the scale benchmark (`npm run bench -- scale`: the heap at 10,000 connections, with room for Pulumi).
 */
export const OPERATOR_NODE_OPTIONS = "--max-old-space-size=192";
