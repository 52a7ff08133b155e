// Starts a real etcd and kube-apiserver on loopback ports with generated certificates and RBAC, writes
// kubeconfigs for the admin and the operator identity, and stops them again. Or, with TEST_KUBECONFIG,
// points at an existing cluster instead.
import { cp, mkdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { INSTALL } from "../../cdk8s/names.ts";
import { resolveBinaries, resolveKubectl } from "./binaries.ts";
import { generatePki } from "./certificates.ts";
import { certificateKubeconfig, impersonatingKubeconfig } from "./kubeconfig.ts";
import { freeLoopbackPorts } from "./ports.ts";
import { type ServerProcess, startServerProcess } from "./processes.ts";
import { ServerExitedError, waitUntilReady } from "./readiness.ts";
import { createWorkDir, writePki } from "./workdir.ts";

/** The repository root, where `.modelkeys/` lives. */
export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** The admin identity: `system:masters` is bound to cluster-admin by the bootstrap RBAC policy. */
export const ADMIN_IDENTITY = { user: "modelkeys-admin", groups: ["system:masters"] } as const;

/** The operator's identity: RBAC treats this certificate exactly like the operator's ServiceAccount token. */
export const OPERATOR_IDENTITY = {
  user: INSTALL.serviceAccountUser,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${INSTALL.namespace}`],
} as const;

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Where to write the admin kubeconfig. @default `<repo>/.modelkeys/kubeconfig` */
  kubeconfigPath?: string;
  /** Where to write the operator identity's kubeconfig. @default `<repo>/.modelkeys/operator.kubeconfig` */
  operatorKubeconfigPath?: string;
  /** Where etcd and kube-apiserver write their logs; kept by stop(). @default a `logs/` dir in the temp work dir */
  logDir?: string;
  /** Use this existing cluster instead of starting one. @default `process.env.TEST_KUBECONFIG` */
  existingKubeconfig?: string;
  /** Deadline for each server to become ready. @default 120000 */
  startTimeoutMs?: number;
  /** Environment read for KUBEBUILDER_ASSETS and TEST_KUBECONFIG. @default `process.env` */
  env?: NodeJS.ProcessEnv;
  /**
   * Write the API server's audit log here (JSON lines, one per write request: create, update, patch, delete and
   * deletecollection, at level Metadata), e.g. to count a client's writes by verb and resource. @default off
   */
  auditLogPath?: string;
  /** More kube-apiserver flags, after the defaults (e.g. `--max-requests-inflight=5` to make it answer 429). */
  apiServerArgs?: readonly string[];
}

/** Audit policy: every write at Metadata level (who, verb, resource, status); reads are left out. */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

/** Options of {@link ControlPlane.stop}. */
export interface StopOptions {
  /** Copy the process logs into this directory before the temporary data is removed. */
  saveLogsTo?: string;
}

/** A running control plane (or an existing cluster when `external`). */
export interface ControlPlane {
  /** Admin kubeconfig (`system:masters`). */
  kubeconfigPath: string;
  /**
   * Kubeconfig acting as the operator's ServiceAccount: a client certificate locally; on an existing
   * cluster, the admin identity impersonating the ServiceAccount user.
   */
  operatorKubeconfigPath: string;
  kubectlPath: string;
  /** The API server URL; empty for an existing cluster. */
  server: string;
  /** Where the process logs are; empty for an existing cluster. */
  logDir: string;
  /** True when TEST_KUBECONFIG pointed at an existing cluster and nothing was started. */
  external: boolean;
  /** Milliseconds from start to a ready API server (0 for an existing cluster). */
  startupMs: number;
  /** The pids of etcd and kube-apiserver (none for an existing cluster): what benchmarks measure CPU of. */
  pids: number[];
  /**
   * Stops kube-apiserver, then etcd (SIGTERM, SIGKILL after 10 s), removes the temporary data and the
   * kubeconfigs it wrote. Idempotent. Does nothing to an existing cluster.
   */
  stop(options?: StopOptions): Promise<void>;
}

const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";
const PORT_RETRIES = 3;

/** Starts the local control plane, or adopts TEST_KUBECONFIG's cluster. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const env = options.env ?? process.env;
  const kubeconfigPath = resolve(options.kubeconfigPath ?? join(REPO_ROOT, ".modelkeys", "kubeconfig"));
  const operatorKubeconfigPath = resolve(
    options.operatorKubeconfigPath ?? join(REPO_ROOT, ".modelkeys", "operator.kubeconfig"),
  );
  const existing = options.existingKubeconfig ?? env.TEST_KUBECONFIG;
  if (existing) return adoptExistingCluster(resolve(existing), operatorKubeconfigPath, env);

  const started = Date.now();
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const [binaries, pki] = await Promise.all([resolveBinaries(env), generatePki()]);
  const workDir = await createWorkDir();
  const logDir = resolve(options.logDir ?? join(workDir, "logs"));
  const pkiDir = join(workDir, "pki");
  await Promise.all([mkdir(logDir, { recursive: true }), mkdir(pkiDir, { recursive: true })]);
  const files = await writePki(pkiDir, pki);
  const servers: ServerProcess[] = [];
  const stopServers = async () => {
    for (const server of servers.reverse()) await server.stop();
  };

  try {
    const etcd = await withFreePorts(2, async ([clientPort, peerPort]) => {
      const clientUrl = `http://127.0.0.1:${clientPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      const server = startServerProcess(
        "etcd",
        binaries.etcd,
        [
          "--name=modelkeys",
          `--data-dir=${join(workDir, "etcd")}`,
          `--listen-client-urls=${clientUrl}`,
          `--advertise-client-urls=${clientUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=modelkeys=${peerUrl}`,
          // Test data need not survive a power cut; fsync dominates etcd's latency otherwise.
          "--unsafe-no-fsync=true",
        ],
        join(logDir, "etcd.log"),
      );
      servers.push(server);
      await waitUntilReady(server, new URL(`${clientUrl}/health`), { timeoutMs });
      return { clientUrl };
    });

    const audit: string[] = [];
    if (options.auditLogPath) {
      const policy = join(workDir, "audit-policy.yaml");
      await writeFile(policy, AUDIT_POLICY);
      audit.push(
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${resolve(options.auditLogPath)}`,
        "--audit-log-format=json",
        // In MB. 0 is not "unlimited" but the rotation library's default, 100 MB: a scale run at 10,000
        // connections rotated its log mid-run and counted a third of its writes.
        "--audit-log-maxsize=100000",
      );
    }
    const server = await withFreePorts(1, async ([securePort]) => {
      const url = `https://127.0.0.1:${securePort}`;
      const apiserver = startServerProcess(
        "kube-apiserver",
        binaries.kubeApiserver,
        [
          `--etcd-servers=${etcd.clientUrl}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          `--secure-port=${securePort}`,
          `--cert-dir=${pkiDir}`,
          `--tls-cert-file=${files.servingCert}`,
          `--tls-private-key-file=${files.servingKey}`,
          `--client-ca-file=${files.caCert}`,
          "--authorization-mode=RBAC",
          `--service-account-issuer=${url}/`,
          `--service-account-key-file=${files.saPublicKey}`,
          `--service-account-signing-key-file=${files.saPrivateKey}`,
          `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
          // No controller-manager creates the default ServiceAccount, so its admission plugin would block pods.
          "--disable-admission-plugins=ServiceAccount",
          "--allow-privileged=true",
          // MutatingAdmissionPolicy, served as Kubernetes 1.36 serves it by default (in 1.34 it is beta and off):
          // the install's finalizer policy (cdk8s/finalizer-policy.ts) then works here as on a current cluster.
          "--feature-gates=MutatingAdmissionPolicy=true",
          "--runtime-config=admissionregistration.k8s.io/v1beta1=true",
          ...audit,
          ...(options.apiServerArgs ?? []),
        ],
        join(logDir, "kube-apiserver.log"),
      );
      servers.push(apiserver);
      const admin = await pki.issueClient(ADMIN_IDENTITY);
      // /readyz turns 200 only after the post-start hooks, the RBAC bootstrap policy among them.
      await waitUntilReady(apiserver, new URL(`${url}/readyz`), {
        tls: { ca: pki.ca.certPem, cert: admin.certPem, key: admin.keyPem },
        timeoutMs,
      });
      await writeKubeconfig(
        kubeconfigPath,
        certificateKubeconfig({ name: "modelkeys-local", server: url, caPem: pki.ca.certPem, ...admin }),
      );
      return url;
    });

    const operator = await pki.issueClient(OPERATOR_IDENTITY);
    await writeKubeconfig(
      operatorKubeconfigPath,
      certificateKubeconfig({ name: "modelkeys-local-operator", server, caPem: pki.ca.certPem, ...operator }),
    );

    let stopped: Promise<void> | undefined;
    return {
      kubeconfigPath,
      operatorKubeconfigPath,
      kubectlPath: binaries.kubectl,
      server,
      logDir,
      external: false,
      startupMs: Date.now() - started,
      pids: servers.map((s) => s.pid),
      stop(stopOptions = {}) {
        stopped ??= (async () => {
          await stopServers();
          if (stopOptions.saveLogsTo) await cp(logDir, stopOptions.saveLogsTo, { recursive: true });
          await removeIfStillOurs(kubeconfigPath, server);
          await removeIfStillOurs(operatorKubeconfigPath, server);
          await rm(workDir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (error) {
    await stopServers();
    const kept = join(REPO_ROOT, ".modelkeys", "logs", `failed-start-${Date.now()}`);
    await cp(logDir, kept, { recursive: true }).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`control plane failed to start (logs kept in ${kept}): ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function adoptExistingCluster(
  kubeconfigPath: string,
  operatorKubeconfigPath: string,
  env: NodeJS.ProcessEnv,
): Promise<ControlPlane> {
  await writeKubeconfig(
    operatorKubeconfigPath,
    impersonatingKubeconfig(kubeconfigPath, OPERATOR_IDENTITY.user),
  );
  return {
    kubeconfigPath,
    operatorKubeconfigPath,
    kubectlPath: await resolveKubectl(env),
    server: "",
    logDir: "",
    external: true,
    startupMs: 0,
    pids: [],
    stop: async () => {
      await unlink(operatorKubeconfigPath).catch(() => undefined);
    },
  };
}

async function writeKubeconfig(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: 0o600 });
}

// A later run may have written its own kubeconfig to the same path; leave that one alone.
async function removeIfStillOurs(path: string, server: string): Promise<void> {
  const content = await readFile(path, "utf8").catch(() => "");
  if (content.includes(`server: ${server}\n`)) await unlink(path).catch(() => undefined);
}

// Free ports are only reserved by convention: when a server loses the race for one, start it again on others.
async function withFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freeLoopbackPorts(count);
    try {
      return await start(ports);
    } catch (error) {
      const lostPort = error instanceof ServerExitedError && /address already in use/i.test(error.log);
      if (!lostPort || attempt >= PORT_RETRIES) throw error;
    }
  }
}
