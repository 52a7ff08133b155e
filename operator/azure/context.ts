// What the parts of Azure provisioning share: the owned Secrets, the background runner, the stacks' memory,
// the engine, and the one place that writes a connection's Secret from what a stack holds.
import type { ProviderConnection } from "../../crds/index.ts";
import type { Clock } from "../clock.ts";
import type { PlannedEvent } from "../reconcile/types.ts";
import { deploymentNameOf, type ProvisionSpec } from "./membership.ts";
import { type OwnedSecrets, provisionedSecretName } from "./owned-secret.ts";
import type { AzureCredentials, AzureProvisioner } from "./provisioner.ts";
import type { StackMemories, StackMemory } from "./stack-memory.ts";
import type { StackQueue } from "./stack-queue.ts";
import type { StackRunner } from "./stack-runner.ts";

/** The API server as provisioning uses it. */
export interface ProvisioningKube extends OwnedSecrets {
  event(connection: ProviderConnection, event: PlannedEvent): Promise<void>;
}

/** Structured logs; never secret values. */
export interface ProvisioningLog {
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
}

export interface ProvisioningContext {
  kube: ProvisioningKube;
  runner: StackRunner;
  memories: StackMemories;
  /** Serializes the owned-Secret writes of a stack, so a rotation's switch and a reconcile never interleave. */
  secretLock: StackQueue;
  provisioner(): Promise<AzureProvisioner>;
  credentials(connection: ProviderConnection, provision: ProvisionSpec): Promise<AzureCredentials>;
  log: ProvisioningLog;
  clock: Clock;
}

/**
 * Writes `connection`'s owned Secret from `memory`: the active key, the endpoint and its deployment. Does
 * nothing (false) while the stack's last update has not made the deployment. Call it under `secretLock`.
 */
export async function writeOwnedSecret(
  context: ProvisioningContext,
  connection: ProviderConnection,
  memory: StackMemory,
): Promise<boolean> {
  const deployment = deploymentNameOf(connection);
  if (!memory.outputs || !memory.keys || !memory.outputs.deploymentNames.includes(deployment)) return false;
  await context.kube.ensure(connection, provisionedSecretName(connection), {
    apiKey: memory.keys[memory.activeKey ?? "key1"],
    endpoint: memory.outputs.endpoint,
    deployment,
  });
  return true;
}

/** The api-key a connection's owned Secret holds now, if any. */
export async function ownedKeyOf(
  context: ProvisioningContext,
  connection: ProviderConnection,
): Promise<string | undefined> {
  const data = await context.kube.read(connection.metadata.namespace, provisionedSecretName(connection));
  return data?.["api-key"] || undefined;
}
