// The Pulumi work of one account's stack, run as the stack's background job: an update to a target (its
// outputs and keys remembered), the account's destruction, and the steps a deleting connection needs.
import type { ProviderConnection } from "../../crds/index.ts";
import type { ProvisioningContext } from "./context.ts";
import { type Membership, type ProvisionSpec, type StackTarget, uidOf } from "./membership.ts";
import { provisionedSecretName } from "./owned-secret.ts";
import { activeKeyOf } from "./rotation.ts";
import type { StackMemory } from "./stack-memory.ts";
import type { EnsureState } from "./stack-runner.ts";

type Member = Extract<Membership, { kind: "Member" }>;

/**
 * Starts (or reports) what a deleting connection's removal needs next: with Delete, the stack without its
 * deployment (the account destroyed when nothing is kept); with Orphan, first an update that records the
 * deployment as retained (unless the last one did), then the stack without it; nothing for the last one.
 */
export function removal(
  context: ProvisioningContext,
  connection: ProviderConnection,
  member: Member,
  memory: StackMemory,
): EnsureState {
  const { runner } = context;
  if (connection.spec.deletionPolicy === "Orphan") {
    if (!member.rest) return { kind: "Done" }; // the last connection: leave the account and the stack as they are
    const retained = memory.deployments?.some((d) => d.name === member.deployment.name && d.retainOnDelete);
    if (!retained && member.keep) {
      // Pulumi keeps a deployment that leaves the program only if its state says so: record that first.
      const first = runner.ensure(member.stack, member.keep.key, () =>
        update(context, connection, member, member.keep as StackTarget),
      );
      if (first.kind !== "Done") return first;
    }
    const rest = member.rest;
    // Done is recorded by the job itself: the other connections' next update puts the deployment back
    // (their target keeps it while this connection exists), and must not make this step run again.
    return runner.ensure(member.stack, rest.key, async () => {
      await update(context, connection, member, rest);
      memory.deprovisioned.add(uidOf(connection));
    });
  }
  const keep = member.keep;
  if (keep) return runner.ensure(member.stack, keep.key, () => update(context, connection, member, keep));
  return runner.ensure(member.stack, "destroy", () => destroy(context, connection, member, memory));
}

/**
 * One update of the stack to `target` with `connection`'s credentials; records outputs and keys, and (after
 * a restart) which key the Secrets carry.
 */
export async function update(
  context: ProvisioningContext,
  connection: ProviderConnection,
  member: Member,
  target: StackTarget,
): Promise<void> {
  const { stack } = member;
  const memory = context.memories.of(stack);
  const started = context.clock.now();
  context.log.info({
    event: "azure.stack.update.started",
    stack,
    deployments: target.deployments.map((d) => d.name),
  });
  try {
    const provisioner = await context.provisioner();
    const credentials = await context.credentials(
      connection,
      connection.spec.azure?.provision as ProvisionSpec,
    );
    const outputs = await provisioner.up(target.account, target.deployments, credentials);
    const time = new Date(context.clock.now()).toISOString();
    await context.secretLock.run(stack, async () => {
      context.memories.recordUpdate(stack, outputs, target.deployments, time);
      if (memory.activeKey === undefined && memory.keys) {
        // After a restart: carry on with the key the Secrets hold, so the apps are not switched for nothing.
        const held = await Promise.all(
          member.members.map(
            async (m) =>
              (await context.kube.read(m.metadata.namespace, provisionedSecretName(m)))?.["api-key"],
          ),
        );
        memory.activeKey = activeKeyOf(memory.keys, held);
      }
    });
    context.log.info({
      event: "azure.stack.update.succeeded",
      stack,
      deployments: outputs.deploymentNames,
      durationMs: context.clock.now() - started,
    });
  } catch (error) {
    memory.lastUpdate = { time: new Date(context.clock.now()).toISOString(), result: "Failed" };
    context.log.warn({
      event: "azure.stack.update.failed",
      stack,
      error: error instanceof Error ? error.message : String(error),
      durationMs: context.clock.now() - started,
    });
    throw error;
  }
}

/** Deletes the account and its stack (the last connection with deletionPolicy Delete is gone). */
async function destroy(
  context: ProvisioningContext,
  connection: ProviderConnection,
  member: Member,
  memory: StackMemory,
): Promise<void> {
  context.log.info({ event: "azure.stack.destroy.started", stack: member.stack });
  try {
    const provisioner = await context.provisioner();
    const credentials = await context.credentials(
      connection,
      connection.spec.azure?.provision as ProvisionSpec,
    );
    await provisioner.destroy(member.ref, credentials);
  } catch (error) {
    memory.lastUpdate = { time: new Date(context.clock.now()).toISOString(), result: "Failed" };
    context.log.warn({
      event: "azure.stack.destroy.failed",
      stack: member.stack,
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  memory.outputs = undefined;
  memory.deployments = undefined;
  memory.keys = undefined;
  memory.activeKey = undefined;
  memory.lastUpdate = { time: new Date(context.clock.now()).toISOString(), result: "Succeeded" };
  context.log.info({ event: "azure.stack.destroy.succeeded", stack: member.stack });
}
