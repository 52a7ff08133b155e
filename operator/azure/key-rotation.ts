// Drives an account's key rotation, one step per reconcile: regenerate the key nobody holds and switch the key
// Secret to it, wait until every app using the account has it (the connections' fingerprints), then regenerate
// the old key.
import type { ProviderConnection } from "../../crds/index.ts";
import { type AzureOpenAIAccount, accountRefOf, keySecretNameOf, stackOf } from "./account.ts";
import { type AccountContext, heldKeyOf, writeKeySecret } from "./account-context.ts";
import { ANNOTATIONS } from "./ports.ts";
import type { AccountKeys } from "./provisioner.ts";
import { type MemberKeys, rotationStep } from "./rotation.ts";
import type { StackMemory } from "./stack-memory.ts";

/**
 * The account's rotation request not yet served: its annotation's value unless status, this process's
 * finished rotation, or the running rotation already covers it.
 */
export function pendingRotationRequest(
  account: AzureOpenAIAccount,
  memory: Pick<StackMemory, "rotated" | "rotating">,
): string | undefined {
  const value = account.metadata.annotations?.[ANNOTATIONS.rotateKeyRequestedAt];
  if (!value) return undefined;
  if (account.status?.rotateKeyRequestedAt === value) return undefined;
  if (memory.rotated?.value === value || memory.rotating === value) return undefined;
  return value;
}

function keyValues(keys: AccountKeys) {
  return { key1: keys.primaryKey, key2: keys.secondaryKey };
}

/**
 * Takes the next step of the account's rotation, if one is asked for and the stack is idle and up to date.
 * Steps run as background jobs of the stack; their end enqueues the account, whose reconcile takes the next.
 *
 * Guarantees: see {@link rotationStep}: a key is regenerated only when neither the key Secret nor any app
 * holds it, so no app ever holds a dead key, even after a crash. Only connections that are not being deleted
 * take part (an Orphan connection's app record keeps the old key, which the rotation ends).
 */
export async function advanceRotation(
  context: AccountContext,
  account: AzureOpenAIAccount,
  connections: readonly ProviderConnection[],
  memory: StackMemory,
): Promise<void> {
  const stack = stackOf(account);
  if (!memory.keys || context.runner.isRunning(stack)) return;
  const request = pendingRotationRequest(account, memory);
  if (memory.rotation.phase === "idle" && request === undefined) {
    memory.rotationWaitingFor = undefined;
    return;
  }
  if (memory.rotationFailure && context.clock.now() < memory.rotationFailure.retryAt) return;
  const live = connections.filter((c) => c.metadata.deletionTimestamp === undefined);
  // Every connection reads the one key Secret: each holds its value, and its app holds what status says.
  const secretValue = await heldKeyOf(context, account);
  const held: MemberKeys[] = [
    { name: `Secret ${keySecretNameOf(account.metadata.name)}`, secretValue },
    ...live.map((c) => ({
      name: c.metadata.name,
      secretValue,
      appFingerprint: c.status?.credentialFingerprint,
    })),
  ];
  const step = rotationStep(memory.rotation, memory.keys, held);
  if (step.kind === "wait") {
    memory.rotationWaitingFor = step.waitingFor;
    return;
  }
  memory.rotationWaitingFor = undefined;
  const ref = accountRefOf(account);
  const log = (fields: Record<string, unknown>) => context.log.info({ stack, ...fields });
  if (step.kind === "regenerateSpare") {
    context.runner.exclusive(stack, () =>
      guarded(context, stack, memory, async () => {
        memory.rotating = request;
        const credentials = await context.credentials(account);
        const keys = await (await context.provisioner(account)).regenerateKey(ref, step.key, credentials);
        memory.keys = keyValues(keys);
        log({ event: "azure.key.regenerated", key: step.key, reason: "rotation: the spare key" });
        await context.secretLock.run(stack, async () => {
          memory.activeKey = step.key;
          memory.rotation = { phase: "switching", from: step.from, to: step.key };
          await writeKeySecret(context, account, memory);
        });
        log({
          event: "azure.rotation.switched",
          key: step.key,
          connections: live.map((c) => c.metadata.name),
        });
      }),
    );
    return;
  }
  context.runner.exclusive(stack, () =>
    guarded(context, stack, memory, async () => {
      const credentials = await context.credentials(account);
      const keys = await (await context.provisioner(account)).regenerateKey(ref, step.key, credentials);
      memory.keys = keyValues(keys);
      memory.rotation = { phase: "idle" };
      const time = new Date(context.clock.now()).toISOString();
      const served = memory.rotating ?? request;
      if (served !== undefined) memory.rotated = { value: served, time };
      memory.rotating = undefined;
      log({
        event: "azure.key.regenerated",
        key: step.key,
        reason: "rotation: the old key, no app holds it",
      });
      await context.kube.event(account, {
        type: "Normal",
        reason: "KeyRotated",
        message: `the keys of Azure account ${ref.accountName} were rotated (${step.key} regenerated last; the apps hold the other)`,
      });
    }),
  );
}

/** Runs a rotation step; a failure is logged and retried after backoff (the phase stays where it was). */
async function guarded(
  context: AccountContext,
  stack: string,
  memory: StackMemory,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
    memory.rotationFailure = undefined;
  } catch (error) {
    if (memory.rotation.phase === "idle") memory.rotating = undefined;
    const attempts = (memory.rotationFailure?.attempts ?? 0) + 1;
    const delay = context.runner.backoffMs(attempts);
    const message = error instanceof Error ? error.message : String(error);
    memory.rotationFailure = { message, retryAt: context.clock.now() + delay, attempts };
    context.log.warn({ event: "azure.rotation.failed", stack, error: message, retryInMs: delay });
    context.runner.wakeAfter(stack, delay);
  }
}
