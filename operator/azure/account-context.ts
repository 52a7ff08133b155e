// What the parts of the account reconciler share: the API server, the background runner, the stacks' memory,
// the engine, the credentials, and the one place that writes an account's key Secret from what its stack holds.
import { type AzureOpenAIAccount, KEY_SECRET_KEYS, keySecretNameOf } from "./account.ts";
import type { AccountKube, AzureLog, Clock } from "./ports.ts";
import type { AzureCredentials, AzureProvisioner } from "./provisioner.ts";
import type { StackMemories, StackMemory } from "./stack-memory.ts";
import type { StackQueue } from "./stack-queue.ts";
import type { StackRunner } from "./stack-runner.ts";

/** Shared by the reconcile, the stack jobs and the key rotation. */
export interface AccountContext {
  kube: AccountKube;
  runner: StackRunner;
  memories: StackMemories;
  /** Serializes a stack's key-Secret writes, so a rotation's switch and a reconcile never interleave. */
  secretLock: StackQueue;
  /** The engine of the account's state backend. */
  provisioner(account: AzureOpenAIAccount): Promise<AzureProvisioner>;
  credentials(account: AzureOpenAIAccount): Promise<AzureCredentials>;
  log: AzureLog;
  clock: Clock;
}

/**
 * Writes the account's key Secret from `memory`: the active key and the endpoint. Does nothing (false) before
 * the stack's first update in this process. Call it under `secretLock`.
 */
export async function writeKeySecret(
  context: AccountContext,
  account: AzureOpenAIAccount,
  memory: StackMemory,
): Promise<boolean> {
  if (!memory.outputs || !memory.keys) return false;
  await context.kube.ensureKeySecret(account, keySecretNameOf(account.metadata.name), {
    apiKey: memory.keys[memory.activeKey ?? "key1"],
    endpoint: memory.outputs.endpoint,
  });
  return true;
}

/** The api-key the account's key Secret holds now, if any. */
export async function heldKeyOf(
  context: AccountContext,
  account: AzureOpenAIAccount,
): Promise<string | undefined> {
  const data = await context.kube.readSecret(
    account.metadata.namespace,
    keySecretNameOf(account.metadata.name),
  );
  return data?.[KEY_SECRET_KEYS.apiKey] || undefined;
}
