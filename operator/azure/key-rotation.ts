// Drives an account's key rotation, one step per reconcile: regenerate the key nobody holds and switch every
// connection's Secret to it, wait until every app has it (status fingerprints), then regenerate the old key.
import type { ProviderConnection } from "../../crds/index.ts";
import { ANNOTATIONS } from "../constants.ts";
import { ownedKeyOf, type ProvisioningContext, writeOwnedSecret } from "./context.ts";
import { connectionKey, type Membership, type ProvisionSpec, uidOf } from "./membership.ts";
import type { AccountKeys } from "./provisioner.ts";
import { type MemberKeys, rotationStep } from "./rotation.ts";
import type { StackMemory } from "./stack-memory.ts";

type Member = Extract<Membership, { kind: "Member" }>;

/**
 * The rotation requests not yet served: each connection's annotation value unless its status, this process's
 * finished rotations, or the running rotation already covers it.
 */
export function pendingRotationRequests(
  connections: readonly ProviderConnection[],
  memory: Pick<StackMemory, "rotated" | "rotating">,
): Map<string, string> {
  const pending = new Map<string, string>();
  for (const connection of connections) {
    const value = connection.metadata.annotations?.[ANNOTATIONS.rotateKeyRequestedAt];
    if (!value) continue;
    const uid = uidOf(connection);
    if (connection.status?.azure?.rotateKeyRequestedAt === value) continue;
    if (memory.rotated.get(uid)?.value === value || memory.rotating.get(uid) === value) continue;
    pending.set(uid, value);
  }
  return pending;
}

function keyValues(keys: AccountKeys) {
  return { key1: keys.primaryKey, key2: keys.secondaryKey };
}

/**
 * Takes the next step of the account's rotation, if one is asked for and the stack is idle and up to date.
 * Steps run as background jobs of the stack; their end enqueues the account's connections, whose reconciles
 * take the step after.
 *
 * Guarantees: see {@link rotationStep}; only connections that are not being deleted take part (an Orphan
 * connection's app record keeps the old key, which the rotation ends).
 */
export async function advanceRotation(
  context: ProvisioningContext,
  connection: ProviderConnection,
  member: Member,
): Promise<void> {
  const { stack } = member;
  const memory = context.memories.of(stack);
  if (!memory.keys || context.runner.isRunning(stack)) return;
  const members = member.members.filter((m) => m.metadata.deletionTimestamp === undefined);
  const requests = pendingRotationRequests(members, memory);
  if (memory.rotation.phase === "idle" && requests.size === 0) {
    memory.rotationWaitingFor = undefined;
    return;
  }
  if (memory.rotationFailure && context.clock.now() < memory.rotationFailure.retryAt) return;
  const held: MemberKeys[] = await Promise.all(
    members.map(async (m) => ({
      name: connectionKey(m),
      secretValue: await ownedKeyOf(context, m),
      appFingerprint: m.status?.credentialFingerprint,
    })),
  );
  const step = rotationStep(memory.rotation, memory.keys, held);
  if (step.kind === "wait") {
    memory.rotationWaitingFor = step.waitingFor;
    return;
  }
  memory.rotationWaitingFor = undefined;
  const provision = connection.spec.azure?.provision as ProvisionSpec;
  const log = (fields: Record<string, unknown>) => context.log.info({ stack, ...fields });
  if (step.kind === "regenerateSpare") {
    context.runner.exclusive(stack, () =>
      guarded(context, stack, memory, async () => {
        memory.rotating = requests;
        const credentials = await context.credentials(connection, provision);
        const keys = await (await context.provisioner()).regenerateKey(member.ref, step.key, credentials);
        memory.keys = keyValues(keys);
        log({ event: "azure.key.regenerated", key: step.key, reason: "rotation: the spare key" });
        await context.secretLock.run(stack, async () => {
          memory.activeKey = step.key;
          memory.rotation = { phase: "switching", from: step.from, to: step.key };
          for (const m of members) await writeOwnedSecret(context, m, memory);
        });
        log({ event: "azure.rotation.switched", key: step.key, connections: members.map(connectionKey) });
      }),
    );
    return;
  }
  context.runner.exclusive(stack, () =>
    guarded(context, stack, memory, async () => {
      const credentials = await context.credentials(connection, provision);
      const keys = await (await context.provisioner()).regenerateKey(member.ref, step.key, credentials);
      memory.keys = keyValues(keys);
      memory.rotation = { phase: "idle" };
      const time = new Date(context.clock.now()).toISOString();
      const served = [...memory.rotating];
      for (const [uid, value] of served) memory.rotated.set(uid, { value, time });
      memory.rotating = new Map();
      log({
        event: "azure.key.regenerated",
        key: step.key,
        reason: "rotation: the old key, no app holds it",
      });
      for (const m of members.filter((m) => served.some(([uid]) => uid === uidOf(m)))) {
        await context.kube
          .event(m, {
            type: "Normal",
            reason: "KeyRotated",
            message: `the keys of Azure account ${member.ref.accountName} were rotated (${step.key} regenerated last; the app holds the other)`,
          })
          .catch(() => undefined);
      }
    }),
  );
}

/** Runs a rotation step; a failure is logged and retried after backoff (the phase stays where it was). */
async function guarded(
  context: ProvisioningContext,
  stack: string,
  memory: StackMemory,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
    memory.rotationFailure = undefined;
  } catch (error) {
    if (memory.rotation.phase === "idle") memory.rotating = new Map();
    const attempts = (memory.rotationFailure?.attempts ?? 0) + 1;
    const delay = context.runner.backoffMs(attempts);
    const message = error instanceof Error ? error.message : String(error);
    memory.rotationFailure = { message, retryAt: context.clock.now() + delay, attempts };
    context.log.warn({ event: "azure.rotation.failed", stack, error: message, retryInMs: delay });
    context.runner.wakeAfter(stack, delay);
  }
}
