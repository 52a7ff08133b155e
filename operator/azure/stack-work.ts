// The Pulumi work of one account's stack, run as the stack's background job: an update to a target (its
// outputs and keys remembered) and the account's destruction.

import { type AzureOpenAIAccount, accountRefOf, stackOf } from "./account.ts";
import { type AccountContext, heldKeyOf } from "./account-context.ts";
import type { StackDeployment } from "./deployments.ts";
import type { AccountSpec } from "./provisioner.ts";
import { activeKeyOf } from "./rotation.ts";

/** What one stack update should produce: the account and its deployments (sorted by name). */
export interface StackTarget {
  account: AccountSpec;
  deployments: StackDeployment[];
}

/** Equal keys mean equal updates: a stack already updated to this key needs no update. */
export function targetKey(target: StackTarget): string {
  return JSON.stringify(target);
}

/**
 * One update of the account's stack to `target`; records outputs and keys, and (after a restart) which key
 * the key Secret carries, so the apps are not switched for nothing.
 */
export async function update(
  context: AccountContext,
  account: AzureOpenAIAccount,
  target: StackTarget,
): Promise<void> {
  const stack = stackOf(account);
  const memory = context.memories.of(stack);
  const started = context.clock.now();
  context.log.info({
    event: "azure.stack.update.started",
    stack,
    deployments: target.deployments.map((d) => d.name),
  });
  try {
    const provisioner = await context.provisioner(account);
    const credentials = await context.credentials(account);
    const outputs = await provisioner.up(target.account, target.deployments, credentials);
    const time = new Date(context.clock.now()).toISOString();
    await context.secretLock.run(stack, async () => {
      context.memories.recordUpdate(stack, outputs, target.deployments, time);
      if (memory.activeKey === undefined && memory.keys)
        memory.activeKey = activeKeyOf(memory.keys, [await heldKeyOf(context, account)]);
    });
    context.log.info({
      event: "azure.stack.update.succeeded",
      stack,
      deployments: outputs.deploymentNames,
      durationMs: context.clock.now() - started,
    });
  } catch (error) {
    memory.lastUpdate = { time: new Date(context.clock.now()).toISOString(), result: "failed" };
    context.log.warn({
      event: "azure.stack.update.failed",
      stack,
      error: error instanceof Error ? error.message : String(error),
      durationMs: context.clock.now() - started,
    });
    throw error;
  }
}

/** Deletes the account, its deployments and its stack (the account's deletionPolicy is Delete). */
export async function destroy(context: AccountContext, account: AzureOpenAIAccount): Promise<void> {
  const stack = stackOf(account);
  const memory = context.memories.of(stack);
  context.log.info({ event: "azure.stack.destroy.started", stack });
  try {
    const provisioner = await context.provisioner(account);
    const credentials = await context.credentials(account);
    await provisioner.destroy(accountRefOf(account), credentials);
  } catch (error) {
    memory.lastUpdate = { time: new Date(context.clock.now()).toISOString(), result: "failed" };
    context.log.warn({
      event: "azure.stack.destroy.failed",
      stack,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  context.log.info({ event: "azure.stack.destroy.succeeded", stack });
}
