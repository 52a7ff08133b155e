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
  /** The FlowSchema that puts the Lease's requests at the `leader-election` priority level. */
  leaseFlowSchema: "modelkeys-leader-election",
  /** The MutatingAdmissionPolicy (and its binding) that gives a new ProviderConnection the operator's finalizer. */
  finalizerPolicy: "modelkeys-connection-finalizer",
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
 * The operator container's NODE_OPTIONS, from the scale benchmark (`npm run bench -- scale`, README "Scale"):
 * semi-spaces of 2 MiB (V8 grows them up to 16 MiB, which a bulk create fills with short-lived garbage: tens of
 * MiB of RSS; 1 MiB saved little more and spent three times as long in GC), and an old-generation cap well below
 * the memory limit with room for a Pulumi update's modules (the heap holds about 45 MiB at 1,000 connections and
 * 92 MiB at 10,000 right after converging).
 */
export const OPERATOR_NODE_OPTIONS = "--max-old-space-size=256 --max-semi-space-size=2";

/**
 * glibc's malloc arenas for the operator container (MALLOC_ARENA_MAX): Node's threads (V8's platform workers,
 * libuv's pool) would each get an arena of their own, RSS that is mostly free space; two are enough for a process
 * whose JavaScript runs on one thread.
 */
export const OPERATOR_MALLOC_ARENA_MAX = "2";
