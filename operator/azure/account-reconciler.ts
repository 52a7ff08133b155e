// The AzureOpenAIAccount reconcile: the account's stack brought to the account's spec with one deployment per
// referencing connection, its key Secret, its key rotation, its finalizer and deletion policy, and its status.
import type { ProviderConnection } from "../../crds/index.ts";
import {
  ACCOUNT_FINALIZER,
  type AzureOpenAIAccount,
  accountSpecOf,
  keySecretNameOf,
  stackOf,
} from "./account.ts";
import type { AccountContext } from "./account-context.ts";
import { writeKeySecret } from "./account-context.ts";
import { accountStatus, accountStatusChanged } from "./account-status.ts";
import { servicePrincipalFrom, workloadIdentityFrom } from "./credentials.ts";
import { wantedDeployments } from "./deployments.ts";
import { advanceRotation } from "./key-rotation.ts";
import {
  type AccountKube,
  ANNOTATIONS,
  type AzureLog,
  type Clock,
  CONDITION,
  REASON,
  TerminalError,
} from "./ports.ts";
import type { AzureProvisioner } from "./provisioner.ts";
import { StackMemories } from "./stack-memory.ts";
import { StackQueue } from "./stack-queue.ts";
import { type EnsureState, type RetryBackoff, StackRunner } from "./stack-runner.ts";
import { destroy, type StackTarget, targetKey, update } from "./stack-work.ts";

export interface AccountReconcilerOptions {
  kube: AccountKube;
  /** The account as cached (or as our own last write returned it). */
  getAccount(namespace: string, name: string): AzureOpenAIAccount | undefined;
  /** The ProviderConnections that reference the account (from an index, deleting ones included). */
  connectionsOf(namespace: string, account: string): readonly ProviderConnection[];
  /** Whether the connections' cache has listed: before, an empty list would remove every deployment. */
  connectionsSynced(): boolean;
  /** Asks for the account's reconcile (a stack job ended, or a failed one may be retried). */
  enqueue(namespace: string, name: string): void;
  /** The engine of the account's state backend, built on first use; throws {@link TerminalError} when there is none. */
  provisioner(account: AzureOpenAIAccount): Promise<AzureProvisioner>;
  log: AzureLog;
  clock: Clock;
  /** Where workload identity's variables are read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Backoff of failed updates. @default 30 s doubling to 10 min */
  backoff?: RetryBackoff;
}

/** An account reconciler: `reconcile` per queue key, `stop` ends its background work. */
export interface AccountReconciler {
  reconcile(namespace: string, name: string): Promise<{ requeueAfterMs?: number }>;
  /** A Secret the account reads (credentials, passphrase) changed: a failed update is retried without its backoff. */
  secretChanged(namespace: string, name: string): void;
  stop(): Promise<void>;
}

/**
 * Creates the account reconciler.
 *
 * Guarantees: a reconcile never waits for Pulumi: an update (or the destruction) runs as the stack's one
 * background job and its end enqueues the account; the stack holds one deployment per referencing
 * connection ({@link wantedDeployments}): a deleting connection's deployment is deleted (deletionPolicy Delete)
 * or retained in Azure (Orphan); the key Secret `<account>-azure-openai-key` (api-key, endpoint; owned by the
 * account) is written only when it differs; a failed update is retried with backoff (an invalid spec or a
 * missing engine only after a change); the account keeps its finalizer until its stack is destroyed
 * (deletionPolicy Delete) or left alone (Orphan); status is written only when it changes.
 * Assumptions: one operator process (the leader) reconciles accounts.
 * Caveats: after a restart every stack is updated once before a rotation can start; a connection deleted
 * before the account ever listed its deployment is not waited for (with Orphan its deployment may then be
 * deleted rather than retained).
 */
export function createAccountReconciler(options: AccountReconcilerOptions): AccountReconciler {
  const owners = new Map<string, { namespace: string; name: string }>();
  const memories = new StackMemories();
  const runner = new StackRunner({
    clock: options.clock,
    backoff: options.backoff,
    onSettled: (stack) => {
      const owner = owners.get(stack);
      if (owner) options.enqueue(owner.namespace, owner.name);
    },
  });
  const env = options.env ?? process.env;
  const context: AccountContext = {
    kube: options.kube,
    runner,
    memories,
    secretLock: new StackQueue(),
    provisioner: options.provisioner,
    log: options.log,
    clock: options.clock,
    credentials: async (account) => {
      const ref = account.spec.credentials?.servicePrincipal?.secretRef;
      const result = ref
        ? servicePrincipalFrom(
            ref.name,
            await options.kube.readSecret(account.metadata.namespace, ref.name),
            account.spec.subscriptionId,
          )
        : workloadIdentityFrom(env, account.spec.subscriptionId);
      if (result.kind === "Ready") return result.credentials;
      // A Secret can appear (it is watched); the operator's own identity cannot without a restart.
      throw ref ? new Error(result.message) : new TerminalError(REASON.ProvisionFailed, result.message);
    },
  };

  const writeStatus = async (
    account: AzureOpenAIAccount,
    state: EnsureState,
    wanted?: ReturnType<typeof wantedDeployments>,
  ) => {
    const stack = stackOf(account);
    const status = accountStatus({
      account,
      stack,
      state,
      wanted,
      memory: memories.of(stack),
      now: new Date(options.clock.now()),
    });
    if (!accountStatusChanged(account, status)) return;
    await options.kube.patchStatus(account, status as Record<string, unknown>);
    // An Event when the account becomes ready or an update fails (each failure message once, as it changes).
    const before = account.status?.conditions?.find((c) => c.type === CONDITION.Ready);
    const after = status.conditions?.find((c) => c.type === CONDITION.Ready);
    if (!after || (before?.reason === after.reason && before.message === after.message)) return;
    const message = after.message ?? "";
    if (after.reason === REASON.ProvisionFailed)
      await options.kube.event(account, { type: "Warning", reason: after.reason, message });
    else if (after.reason === REASON.Provisioned && before?.reason !== REASON.Provisioned)
      await options.kube.event(account, { type: "Normal", reason: after.reason, message });
  };

  const finish = async (account: AzureOpenAIAccount): Promise<{ requeueAfterMs?: number }> => {
    const finalizers = account.metadata.finalizers ?? [];
    if (!finalizers.includes(ACCOUNT_FINALIZER)) return {};
    const stack = stackOf(account);
    // A job under way ends first (its end enqueues the account again).
    if (runner.isRunning(stack)) return {};
    // The release annotation lets an account go without its stack's destruction (e.g. credentials gone for good).
    const release = account.metadata.annotations?.[ANNOTATIONS.releaseFinalizer] === "true";
    if (account.spec.deletionPolicy !== "Orphan" && !release) {
      const state = runner.ensure(stack, "destroy", () => destroy(context, account));
      if (state.kind !== "Done") {
        await writeStatus(account, state);
        return {};
      }
    }
    await options.kube.removeSecret(account.metadata.namespace, keySecretNameOf(account.metadata.name));
    await options.kube.patchMetadata(account, {
      finalizers: finalizers.filter((f) => f !== ACCOUNT_FINALIZER),
    });
    options.log.info({
      event: "azure.account.deleted",
      account: `${account.metadata.namespace}/${account.metadata.name}`,
      deletionPolicy: release ? "released" : (account.spec.deletionPolicy ?? "Delete"),
    });
    memories.forget(stack);
    runner.forget(stack);
    owners.delete(stack);
    return {};
  };

  return {
    stop: () => runner.stop(),
    secretChanged(namespace, name) {
      const account = options.getAccount(namespace, name);
      if (account) runner.retryNow(stackOf(account));
    },
    async reconcile(namespace, name) {
      const cached = options.getAccount(namespace, name);
      if (!cached) return {};
      let account: AzureOpenAIAccount = cached;
      const stack = stackOf(account);
      owners.set(stack, { namespace, name });
      if (account.metadata.deletionTimestamp) return finish(account);
      if (!(account.metadata.finalizers ?? []).includes(ACCOUNT_FINALIZER)) {
        account = await options.kube.patchMetadata(account, {
          finalizers: [...(account.metadata.finalizers ?? []), ACCOUNT_FINALIZER],
        });
      }
      if (!options.connectionsSynced()) return { requeueAfterMs: 1_000 };
      const memory = memories.of(stack);
      const connections = options.connectionsOf(namespace, name);
      const wanted = wantedDeployments(connections, memory.deployments);
      const target: StackTarget = { account: accountSpecOf(account), deployments: wanted.deployments };
      const current = account;
      const state = runner.ensure(stack, targetKey(target), () => update(context, current, target));
      if (state.kind === "Done") {
        await context.secretLock.run(stack, () => writeKeySecret(context, current, memory));
        await advanceRotation(context, current, connections, memory);
      }
      await writeStatus(account, state, wanted);
      return {};
    },
  };
}
