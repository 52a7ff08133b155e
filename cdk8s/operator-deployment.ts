// The operator's workload: a hardened Deployment (restricted Pod Security), its metrics Service, a
// PodDisruptionBudget, and the volume that holds PULUMI_HOME (and a file:// state backend, if configured).
import { ApiObject, Duration, JsonPatch, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import { INSTALL, OPERATOR_MALLOC_ARENA_MAX, OPERATOR_NODE_OPTIONS } from "./names.ts";

/** Where the Pulumi file backend and PULUMI_HOME live inside the container. */
export const STATE_DIR = "/var/lib/modelkeys";
/** The non-root user and group the container runs as (numeric, so runAsNonRoot can verify it). */
export const RUN_AS = 65532;

/** Pod labels; the selector of the Deployment, the Service and the PodDisruptionBudget. */
export const OPERATOR_LABELS = {
  "app.kubernetes.io/name": "modelkeys",
  "app.kubernetes.io/component": "operator",
} as const;

/**
 * The volume at /var/lib/modelkeys: PULUMI_HOME (the engine's plugins), and a file:// PULUMI_BACKEND_URL if one
 * is configured. The stacks' state itself is kept in Secrets by default, so losing this volume loses nothing.
 */
export type StateVolume =
  /** Lost with the pod: fine by default (state in Secrets), or with a remote PULUMI_BACKEND_URL. */
  | { readonly emptyDir: { /** @default Size.gibibytes(1) */ readonly sizeLimit?: Size } }
  /** A PersistentVolumeClaim created by this chart. */
  | {
      readonly persistentVolumeClaim: {
        /** @default Size.gibibytes(1) */
        readonly size?: Size;
        /** @default the cluster's default StorageClass */
        readonly storageClassName?: string;
        /**
         * ReadWriteOnce suits one replica, or replicas that share a node; two replicas on two nodes need
         * ReadWriteMany (only the leader writes).
         * @default "ReadWriteMany"
         */
        readonly accessMode?: "ReadWriteOnce" | "ReadWriteMany";
      };
    }
  /** A PersistentVolumeClaim that exists already, by name. */
  | { readonly existingClaim: string };

/** Props of {@link OperatorDeployment}. */
export interface OperatorDeploymentProps {
  /** The ServiceAccount the pods run as. */
  readonly serviceAccount: kplus.IServiceAccount;
  /**
   * The operator image.
   * @default INSTALL.image: ghcr.io/modelkeys/operator tagged with the release version (operator/version.ts)
   */
  readonly image?: string;
  /**
   * Image pull policy.
   * @default kplus.ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;
  /**
   * Replicas; one leads through the Lease, the others stand by. A PodDisruptionBudget is added when > 1.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Extra arguments for the operator process.
   * @default none
   */
  readonly args?: readonly string[];
  /**
   * Requests and limits. The limit leaves room for a Pulumi update (engine and azure-native plugin).
   * @default requests 250m CPU / 256Mi, limits 1 CPU / 1Gi (sized from the scale benchmark)
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * The volume at /var/lib/modelkeys.
   * @default { emptyDir: { sizeLimit: Size.gibibytes(1) } }
   */
  readonly stateVolume?: StateVolume;
  /**
   * PULUMI_BACKEND_URL for provisioned Azure accounts, e.g. azblob://state for a shared remote backend.
   * @default none: each stack's state in a Secret of its account's namespace, locked by a Lease
   */
  readonly pulumiBackendUrl?: string;
  /**
   * The key of the Secret modelkeys-pulumi (operator namespace) that holds the Pulumi passphrase; the
   * operator reads it when it provisions, so the pod starts without it.
   * @default "passphrase"
   */
  readonly pulumiPassphraseKey?: string;
  /**
   * Log level of the operator (MODELKEYS_LOG_LEVEL): trace, debug, info, warn, error or fatal.
   * @default "info"
   */
  readonly logLevel?: string;
  /**
   * The namespaces to watch (MODELKEYS_NAMESPACES); give the install's `watchNamespaces` instead, which also
   * scopes the RBAC to them.
   * @default all namespaces
   */
  readonly watchNamespaces?: readonly string[];
  /**
   * Azure provisioning (MODELKEYS_AZURE_PROVISIONING); give the install's `azureProvisioning` instead, which also
   * drops the Secret write verbs.
   * @default true
   */
  readonly azureProvisioning?: boolean;
  /**
   * Time for in-flight reconciles (and a running Pulumi update) to finish and the Lease to be released.
   * @default 60 seconds
   */
  readonly terminationGracePeriodSeconds?: number;
}

/**
 * From `npm run bench -- scale` (README "Scale"), the operator with the install's NODE_OPTIONS and
 * MALLOC_ARENA_MAX: RSS about 100 MiB with one Organization, about 150 MiB with 1,000 connections, 220–243 MiB
 * with 10,000 right after converging and 170–180 MiB once idle (the request is 256Mi); about half a core while
 * converging, next to nothing idle. The limit stays at
 * 1Gi: a Pulumi update runs the engine and the azure-native plugin as child processes in the same container.
 */
const DEFAULT_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.units(1) },
  memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
};

/** The operator Deployment with its Service, PodDisruptionBudget and (optionally) PersistentVolumeClaim. */
export class OperatorDeployment extends Construct {
  /** The Deployment. */
  readonly deployment: kplus.Deployment;

  constructor(scope: Construct, id: string, props: OperatorDeploymentProps) {
    super(scope, id);
    const replicas = props.replicas ?? 2;

    this.deployment = new kplus.Deployment(this, "deployment", {
      metadata: { name: INSTALL.serviceAccount, labels: OPERATOR_LABELS },
      replicas,
      select: false,
      podMetadata: { labels: OPERATOR_LABELS },
      serviceAccount: props.serviceAccount,
      // The operator talks to the API server with its ServiceAccount token.
      automountServiceAccountToken: true,
      terminationGracePeriod: Duration.seconds(props.terminationGracePeriodSeconds ?? 60),
      securityContext: { ensureNonRoot: true, user: RUN_AS, group: RUN_AS, fsGroup: RUN_AS },
      spread: false,
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: OPERATOR_LABELS }));

    const container = this.deployment.addContainer({
      name: "operator",
      image: props.image ?? INSTALL.image,
      imagePullPolicy: props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT,
      ...(props.args && props.args.length > 0 ? { args: [...props.args] } : {}),
      ports: [
        { name: "metrics", number: INSTALL.metricsPort },
        { name: "health", number: INSTALL.healthPort },
      ],
      liveness: kplus.Probe.fromHttpGet("/healthz", {
        port: INSTALL.healthPort,
        periodSeconds: Duration.seconds(10),
        failureThreshold: 3,
        timeoutSeconds: Duration.seconds(2),
      }),
      readiness: kplus.Probe.fromHttpGet("/readyz", {
        port: INSTALL.healthPort,
        periodSeconds: Duration.seconds(5),
        failureThreshold: 3,
        timeoutSeconds: Duration.seconds(2),
      }),
      resources: props.resources ?? DEFAULT_RESOURCES,
      securityContext: {
        ensureNonRoot: true,
        user: RUN_AS,
        group: RUN_AS,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        // "ALL" is what Pod Security "restricted" checks for; cdk8s-plus-27 has no enum member for it.
        capabilities: { drop: ["ALL" as kplus.Capability] },
      },
      envVariables: {
        // apiVersion as the API server defaults it: fieldRef is atomic, so a missing one reads as a change.
        POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME, { apiVersion: "v1" }),
        POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE, { apiVersion: "v1" }),
        // Node, npm and the Pulumi CLI write small files under $HOME; the root filesystem is read-only.
        HOME: kplus.EnvValue.fromValue("/tmp"),
        // The heap settings the memory request is sized for (see README "Scale").
        NODE_OPTIONS: kplus.EnvValue.fromValue(OPERATOR_NODE_OPTIONS),
        MALLOC_ARENA_MAX: kplus.EnvValue.fromValue(OPERATOR_MALLOC_ARENA_MAX),
        PULUMI_HOME: kplus.EnvValue.fromValue(`${STATE_DIR}/pulumi-home`),
        // namespace/name/key: read through the API (its RBAC covers Secrets), never put in the environment.
        MODELKEYS_PULUMI_PASSPHRASE_SECRET: kplus.EnvValue.fromValue(
          `${INSTALL.namespace}/${INSTALL.pulumiPassphraseSecret}/${props.pulumiPassphraseKey ?? "passphrase"}`,
        ),
        MODELKEYS_LOG_LEVEL: kplus.EnvValue.fromValue(props.logLevel ?? "info"),
        // namespace/name; a missing ConfigMap means the shipped catalogue.
        MODELKEYS_CATALOGUE_CONFIG_MAP: kplus.EnvValue.fromValue(
          `${INSTALL.namespace}/${INSTALL.catalogueConfigMap}`,
        ),
        // Last: the Helm chart appends these when set, so both list the environment in one order.
        // Unset means every namespace. (An empty value would be dropped by the API server, a diff on each apply.)
        ...(props.watchNamespaces?.length
          ? { MODELKEYS_NAMESPACES: kplus.EnvValue.fromValue(props.watchNamespaces.join(",")) }
          : {}),
        // Set only when off, so the default install's environment stays as it was.
        ...(props.azureProvisioning === false
          ? { MODELKEYS_AZURE_PROVISIONING: kplus.EnvValue.fromValue("false") }
          : {}),
        // Unset by default: the stacks' state is kept in Secrets (no volume to lose).
        ...(props.pulumiBackendUrl
          ? { PULUMI_BACKEND_URL: kplus.EnvValue.fromValue(props.pulumiBackendUrl) }
          : {}),
      },
    });

    container.mount(
      "/tmp",
      kplus.Volume.fromEmptyDir(this, "tmp", "tmp", { sizeLimit: Size.mebibytes(256) }),
    );
    container.mount(STATE_DIR, this.stateVolume(props.stateVolume));

    // cdk8s-plus-27 has no seccompProfile: patch it into the rendered pod and container security contexts.
    const raw = ApiObject.of(this.deployment);
    raw.addJsonPatch(
      // The pods are selected by OPERATOR_LABELS; drop cdk8s-plus's own address label from the template.
      JsonPatch.remove("/spec/template/metadata/labels/cdk8s.io~1metadata.addr"),
      // Zero values the API server does not store: applied, another field manager would see them as changes.
      JsonPatch.remove("/spec/minReadySeconds"),
      JsonPatch.remove("/spec/template/spec/hostNetwork"),
      JsonPatch.add("/spec/template/spec/securityContext/seccompProfile", { type: "RuntimeDefault" }),
      JsonPatch.add("/spec/template/spec/containers/0/securityContext/seccompProfile", {
        type: "RuntimeDefault",
      }),
    );

    const service = new kplus.Service(this, "metrics", {
      metadata: { name: `${INSTALL.serviceAccount}-metrics`, labels: OPERATOR_LABELS },
      selector: kplus.Pods.select(this, "pods", { labels: OPERATOR_LABELS }),
      ports: [{ name: "metrics", port: INSTALL.metricsPort, targetPort: INSTALL.metricsPort }],
    });
    ApiObject.of(service).addJsonPatch(JsonPatch.remove("/spec/externalIPs"));

    if (replicas > 1) {
      new kplus.k8s.KubePodDisruptionBudget(this, "pdb", {
        metadata: { name: INSTALL.serviceAccount, labels: OPERATOR_LABELS },
        spec: {
          minAvailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: OPERATOR_LABELS },
        },
      });
    }
  }

  private stateVolume(choice: StateVolume | undefined): kplus.Volume {
    const volume = choice ?? { emptyDir: {} };
    if ("existingClaim" in volume) {
      const claim = kplus.PersistentVolumeClaim.fromClaimName(this, "claim", volume.existingClaim);
      return kplus.Volume.fromPersistentVolumeClaim(this, "state", claim, { name: "state" });
    }
    if ("persistentVolumeClaim" in volume) {
      const wanted = volume.persistentVolumeClaim;
      const claim = new kplus.PersistentVolumeClaim(this, "claim", {
        metadata: { name: `${INSTALL.serviceAccount}-state`, labels: OPERATOR_LABELS },
        accessModes: [
          wanted.accessMode === "ReadWriteOnce"
            ? kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE
            : kplus.PersistentVolumeAccessMode.READ_WRITE_MANY,
        ],
        storage: wanted.size ?? Size.gibibytes(1),
        ...(wanted.storageClassName ? { storageClassName: wanted.storageClassName } : {}),
      });
      return kplus.Volume.fromPersistentVolumeClaim(this, "state", claim, { name: "state" });
    }
    return kplus.Volume.fromEmptyDir(this, "state", "state", {
      sizeLimit: volume.emptyDir.sizeLimit ?? Size.gibibytes(1),
    });
  }
}
