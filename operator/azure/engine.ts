// The operator's Pulumi engine: the CLI (MODELKEYS_PULUMI_DIR or PATH), the backend from configuration and
// the passphrase from its Secret, built into one provisioner on first use; or a clear reason there is none.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { REASON } from "../constants.ts";
import { TerminalError } from "../error-policy.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeObjects } from "../kube/objects.ts";
import type { Logger } from "../log.ts";
import type { Provisioning } from "../reconcile/ports.ts";
import {
  type ProvisionEvent,
  type PulumiAutomationOptions,
  PulumiAutomationProvisioner,
} from "./automation.ts";
import { ENV } from "./config.ts";
import { createOwnedSecrets } from "./owned-secret.ts";
import type { AzureProvisioner } from "./provisioner.ts";
import { createAzureProvisioning } from "./provisioning.ts";
import type { RetryBackoff } from "./stack-runner.ts";

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
  /** @default process.env */
  env?: Record<string, string | undefined>;
  onEvent?(event: ProvisionEvent): void;
  /** More provisioner options (a program, a key service, the CLI's environment): tests run cloud-free. */
  automation?: Partial<Omit<PulumiAutomationOptions, "backendUrl" | "passphrase">>;
}

/**
 * A lazy provisioner for {@link createAzureProvisioning}: built once the passphrase Secret is read.
 *
 * Guarantees: no CLI or no passphrase setting is a {@link TerminalError} whose message says what to
 * set; a missing passphrase Secret or key is an ordinary (retried) error; one provisioner per passphrase, so
 * one queue per stack.
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
    const data = await options.readSecret(ref.namespace, ref.name);
    const passphrase = data?.[ref.key];
    if (!passphrase) {
      throw new Error(
        data
          ? `Pulumi passphrase Secret ${ref.namespace}/${ref.name} has no key ${ref.key}`
          : `Pulumi passphrase Secret ${ref.namespace}/${ref.name} not found`,
      );
    }
    if (built?.passphrase !== passphrase) {
      built = {
        passphrase,
        provisioner: new PulumiAutomationProvisioner({
          backendUrl: options.config.pulumiBackendUrl,
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
  return createAzureProvisioning({
    kube: {
      ...secrets,
      event: (connection, event) => objects.event("ProviderConnection", connection, event),
    },
    provisioner: pulumiEngine({
      config: options.config,
      readSecret: (namespace, name) => objects.readSecret(namespace, name),
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
