// The operator's Pulumi engine: the CLI (MODELKEYS_PULUMI_DIR or PATH), the backend from configuration and
// the passphrase from its Secret, built into one provisioner on first use; or a clear reason there is none.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import type { KubeClient } from "../kube/client.ts";
import { clientNodeKubeConfig } from "../kube/client-node-bridge.ts";
import { KubeObjects } from "../kube/objects.ts";
import type { Logger } from "../log.ts";
import { KubernetesStateStore, kubernetesPassphraseSecrets } from "../pulumi-state/index.ts";
import type { Provisioning } from "../reconcile/ports.ts";
import {
  type ProvisionEvent,
  type PulumiAutomationOptions,
  PulumiAutomationProvisioner,
} from "./automation.ts";
import { ENV } from "./config.ts";
import { createOwnedSecrets } from "./owned-secret.ts";
import { ensurePassphrase, type PassphraseSecrets } from "./passphrase.ts";
import type { AzureProvisioner } from "./provisioner.ts";
import { createAzureProvisioning } from "./provisioning.ts";
import type { RetryBackoff } from "./stack-runner.ts";
import type { StackStateStore } from "./state-store.ts";

/** Where the engine finds its CLI: MODELKEYS_PULUMI_DIR/bin/pulumi, else a `pulumi` on PATH. */
export function findPulumiCli(env: Record<string, string | undefined>): { root?: string } | undefined {
  const dir = env[ENV.pulumiRoot];
  if (dir) return existsSync(join(dir, "bin", "pulumi")) ? { root: dir } : undefined;
  const onPath = (env.PATH ?? "").split(delimiter).some((p) => p !== "" && existsSync(join(p, "pulumi")));
  return onPath ? {} : undefined;
}

export interface PulumiEngineOptions {
  config: Pick<Config, "pulumiBackendUrl" | "pulumiPassphraseSecret">;
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /**
   * Creates the passphrase Secret when it is absent and the state is kept in Kubernetes.
   * @default none: a missing Secret is reported
   */
  createSecret?: PassphraseSecrets["create"];
  /** Where stacks' state is kept when no backend URL is configured (the operator's default). */
  stateStore?: StackStateStore;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  onEvent?(event: ProvisionEvent): void;
  /** More provisioner options (a program, a key service, the CLI's environment): tests run cloud-free. */
  automation?: Partial<Omit<PulumiAutomationOptions, "backendUrl" | "passphrase">>;
}

/**
 * A lazy provisioner for {@link createAzureProvisioning}: built once the passphrase Secret is read.
 *
 * Guarantees: no CLI, no passphrase setting, or neither a backend URL nor a state store is a
 * {@link TerminalError} whose message says what to set; with the state store (no backend URL) an absent
 * passphrase Secret is created once ({@link ensurePassphrase}); a missing passphrase Secret or key is a
 * PassphraseMissingError (retried) naming the Secret; one provisioner per passphrase, so one queue per stack.
 */
export function pulumiEngine(options: PulumiEngineOptions): () => Promise<AzureProvisioner> {
  const env = options.env ?? process.env;
  let built: { passphrase: string; provisioner: AzureProvisioner } | undefined;
  return async () => {
    const cli = findPulumiCli(env);
    if (!cli) {
      throw new TerminalError(
        REASON.ProvisionFailed,
        `no Pulumi engine configured: set ${ENV.pulumiRoot} to a directory holding bin/pulumi, or put pulumi on PATH`,
      );
    }
    const ref = options.config.pulumiPassphraseSecret;
    if (!ref) {
      throw new TerminalError(
        REASON.ProvisionFailed,
        "no Pulumi passphrase configured: set --pulumi-passphrase-secret (MODELKEYS_PULUMI_PASSPHRASE_SECRET) to namespace/name/key",
      );
    }
    const backendUrl = options.config.pulumiBackendUrl;
    if (!backendUrl && !options.stateStore) {
      throw new TerminalError(
        REASON.ProvisionFailed,
        "no Pulumi state backend: set PULUMI_BACKEND_URL, or run the operator with its Kubernetes state store",
      );
    }
    const passphrase = await ensurePassphrase(
      ref,
      { read: options.readSecret, create: options.createSecret ?? (async () => "forbidden" as const) },
      { create: !backendUrl },
    );
    if (built?.passphrase !== passphrase) {
      built = {
        passphrase,
        provisioner: new PulumiAutomationProvisioner({
          ...(backendUrl
            ? { backendUrl }
            : { state: { store: options.stateStore as StackStateStore, namespace: ref.namespace } }),
          passphrase,
          ...(cli.root ? { pulumiRoot: cli.root } : {}),
          ...(env[ENV.pulumiHome] ? { pulumiHome: env[ENV.pulumiHome] } : {}),
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
          ...options.automation,
        }),
      };
    }
    return built.provisioner;
  };
}

export interface OperatorProvisioningOptions {
  kc: KubeClient;
  config: Pick<Config, "pulumiBackendUrl" | "pulumiPassphraseSecret" | "identity">;
  log: Logger;
  clock: Clock;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** See {@link PulumiEngineOptions.automation}. */
  automation?: PulumiEngineOptions["automation"];
  /** Backoff of failed updates. @default 30 s doubling to 10 min */
  backoff?: RetryBackoff;
}

/**
 * The operator's Azure provisioning: the owned Secrets and Events on the API server, the Pulumi engine of
 * {@link pulumiEngine}. Without a CLI every provisioned connection says ProvisionFailed "no Pulumi engine
 * configured" (nothing else changes).
 */
export function operatorProvisioning(options: OperatorProvisioningOptions): Provisioning {
  const objects = new KubeObjects(options.kc, options.config.identity);
  const secrets = createOwnedSecrets(options.kc);
  const env = options.env ?? process.env;
  const engine = findPulumiCli(env);
  options.log.info(
    engine
      ? { event: "azure.engine.found", pulumiRoot: engine.root ?? "(PATH)", backend: "configured" }
      : { event: "azure.engine.missing", hint: `set ${ENV.pulumiRoot} or put pulumi on PATH` },
  );
  // The state store speaks client-node (loaded here only, on the lazy Azure path).
  const stateKc = clientNodeKubeConfig(options.kc);
  return createAzureProvisioning({
    kube: {
      ...secrets,
      event: (connection, event) => objects.event("ProviderConnection", connection, event),
    },
    provisioner: pulumiEngine({
      config: options.config,
      readSecret: (namespace, name) => objects.readSecret(namespace, name),
      createSecret: kubernetesPassphraseSecrets(stateKc).create,
      // The default: each stack's checkpoint in a Secret of its account's namespace, locked by a Lease.
      ...(options.config.pulumiBackendUrl
        ? {}
        : { stateStore: new KubernetesStateStore({ kc: stateKc, identity: options.config.identity }) }),
      env,
      onEvent: (event) => options.log.info({ ...event, event: `azure.${event.event}` }),
      ...(options.automation ? { automation: options.automation } : {}),
    }),
    log: options.log,
    clock: options.clock,
    env,
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });
}
