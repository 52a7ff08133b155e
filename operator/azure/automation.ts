// The Pulumi Automation API behind AzureProvisioner: one stack per account, its state in the state store (or
// the configured backend), the inline program built on the AzureOpenAIAccount component, errors redacted.
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LocalWorkspace,
  PulumiCommand,
  type PulumiFn,
  type Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation/index.js";
import { describeIssues } from "../../pulumi/args.ts";
import { type AccountKeyService, ArmAccountKeys } from "./account-keys.ts";
import type { Operation, PulumiAutomationOptions } from "./automation-options.ts";
import { componentSpecFor } from "./component-spec.ts";
import { azureOpenAIProgram, type ProgramFactory, ProgramOutputs } from "./inline-program.ts";
import { armPendingCreateIds } from "./pending-creates.ts";
import { azureCredentialEnv, azureNativeConfig, credentialSecrets } from "./provider-config.ts";
import {
  type AccountKeys,
  type AccountSpec,
  type AzureAccountRef,
  type AzureCredentials,
  type AzureProvisioner,
  type DeploymentSpec,
  type KeyName,
  ProvisionError,
  type ProvisionResult,
} from "./provisioner.ts";
import { redactPulumiMessage } from "./redact.ts";
import { stackNameFor } from "./stack-name.ts";
import { StackQueue } from "./stack-queue.ts";
import { configuredBackend, keptState, type StackState } from "./stack-state.ts";
import { breakStaleLocks } from "./stale-locks.ts";
import { type HeldStack, LockLostError, StateTooLargeError } from "./state-store.ts";

export type { KeptStateOptions, ProvisionEvent, PulumiAutomationOptions } from "./automation-options.ts";

/** The Pulumi project every account stack belongs to. */
export const PROJECT_NAME = "modelkeys-azure";

/**
 * {@link AzureProvisioner} on the Pulumi Automation API and a local `pulumi` CLI.
 *
 * Guarantees: one stack per account ({@link stackNameFor}); operations on one stack run one at a time in
 * call order, other stacks' run alongside; each operation works in a fresh workspace directory that is
 * removed afterwards, so nothing but the store (or backend) holds state; credentials reach azure-native as
 * ARM_* variables of the stack's CLI, so the state never holds them and every operation uses the current
 * ones; the keys in the state are encrypted with the passphrase; error messages are redacted.
 * With a store: each operation holds the stack's lock in the store (other processes wait), restores the
 * checkpoint into a local file backend, mirrors it to the store while the update runs (a kill loses at most
 * the step in flight) and saves the final checkpoint after it; interrupted creates of a restored checkpoint
 * are settled ({@link settlePendingCreates}) and refreshed before the update, so nothing is created twice; a
 * lost lock cancels the running update; destroy removes the kept state. A {@link StateTooLargeError} or
 * {@link LockLostError} reaches the caller as itself (its message carries no secret).
 * Assumptions: without a store, one operator process (the leader) drives the stacks of a backend.
 * Caveats: on a configured backend, a process killed mid-update leaves the backend's lock on that stack. On
 * a file backend the next operation removes it when it was taken on this host by a process that is gone
 * ({@link breakStaleLocks}); otherwise updates fail with Pulumi's "currently locked" message until it is
 * removed by hand.
 */
export class PulumiAutomationProvisioner implements AzureProvisioner {
  private readonly queue = new StackQueue();
  private readonly program: ProgramFactory;
  private readonly keys: AccountKeyService;
  private command: Promise<PulumiCommand> | undefined;

  constructor(private readonly options: PulumiAutomationOptions) {
    this.program = options.program ?? azureOpenAIProgram;
    this.keys = options.keys ?? new ArmAccountKeys();
    if (options.backendUrl) ensureFileBackend(options.backendUrl);
    else if (!options.state)
      throw new Error("PulumiAutomationProvisioner needs a backendUrl or a state store");
  }

  async up(
    account: AccountSpec,
    deployments: DeploymentSpec[],
    credentials: AzureCredentials,
  ): Promise<ProvisionResult> {
    const spec = componentSpecFor(account, deployments);
    const stackName = stackNameFor(account);
    return this.operate("up", account, credentials, async (workDir, state) => {
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: PROJECT_NAME, program: this.program({ account: spec, stack: stackName }) },
        await this.workspaceOptions(workDir, state, azureCredentialEnv(account, credentials)),
      );
      const restored = await state.restore(stack);
      await stack.setAllConfig(azureNativeConfig(account));
      // Adopted creates are confirmed (or dropped) by the refresh before the update changes anything.
      const refresh = (this.options.refresh ?? true) || restored.adopted.length > 0;
      const result = await state.mirrored(() =>
        stack.up({ refresh, color: "never", ...(state.signal ? { signal: state.signal } : {}) }),
      );
      await state.persist();
      const values = Object.fromEntries(
        Object.entries(result.outputs).map(([key, output]) => [key, output.value]),
      );
      const outputs = ProgramOutputs.safeParse(values);
      if (!outputs.success) {
        throw new Error(
          `error: the program's outputs are incomplete: ${describeIssues(outputs.error, "").join("; ")}`,
        );
      }
      return { changes: result.summary.resourceChanges, value: { stack: stackName, ...outputs.data } };
    });
  }

  async destroy(account: AzureAccountRef, credentials: AzureCredentials): Promise<void> {
    const stackName = stackNameFor(account);
    await this.operate("destroy", account, credentials, async (workDir, state) => {
      const args = { stackName, projectName: PROJECT_NAME, program: noProgram };
      const options = await this.workspaceOptions(workDir, state, azureCredentialEnv(account, credentials));
      let stack: Stack;
      if (state.kept) {
        if (!(await state.stored())) {
          await state.remove();
          return { value: undefined };
        }
        stack = await LocalWorkspace.createOrSelectStack(args, options);
        await state.restore(stack);
      } else {
        try {
          stack = await LocalWorkspace.selectStack(args, options);
        } catch (error) {
          if (error instanceof StackNotFoundError) return { value: undefined };
          throw error;
        }
      }
      const result = await state.mirrored(() =>
        stack.destroy({
          refresh: this.options.refresh ?? true,
          color: "never",
          ...(state.signal ? { signal: state.signal } : {}),
        }),
      );
      await stack.workspace.removeStack(stackName);
      await state.remove();
      return { changes: result.summary.resourceChanges, value: undefined };
    });
  }

  async regenerateKey(
    account: AzureAccountRef,
    key: KeyName,
    credentials: AzureCredentials,
  ): Promise<AccountKeys> {
    return this.operate("regenerateKey", account, credentials, async () => ({
      value: await this.keys.regenerate(account, key, credentials),
    }));
  }

  /**
   * Queues `work` on the stack, gives it a workspace directory and its state (the stack's lock held in the
   * store, or the configured backend), reports it, and redacts its failure.
   */
  private operate<T>(
    operation: Operation,
    account: AzureAccountRef,
    credentials: AzureCredentials,
    work: (workDir: string, state: StackState) => Promise<{ value: T; changes?: Record<string, number> }>,
  ): Promise<T> {
    const emit = this.options.onEvent ?? (() => {});
    const stack = stackNameFor(account);
    const secrets = credentialSecrets(credentials);
    emit({ event: "stack.operation.queued", stack, operation, waiting: this.queue.pending(stack) });
    return this.queue.run(stack, async () => {
      const started = Date.now();
      const workDir = await mkdtemp(join(this.options.workRoot ?? tmpdir(), "modelkeys-pulumi-"));
      let held: HeldStack | undefined;
      try {
        const kept = this.options.backendUrl ? undefined : this.options.state;
        if (kept) {
          held = await kept.store.lock(
            { namespace: account.namespace ?? kept.namespace, stack },
            kept.signal,
          );
        }
        emit({ event: "stack.operation.started", stack, operation });
        const state = await this.stateOf(stack, workDir, held, credentials);
        if (operation !== "regenerateKey" && !state.kept) {
          for (const lock of await breakStaleLocks(state.backendUrl, PROJECT_NAME, stack)) {
            emit({ event: "stack.lock.broken", stack, ...lock });
          }
        }
        const { value, changes } = await work(workDir, state);
        emit({
          event: "stack.operation.finished",
          stack,
          operation,
          result: "succeeded",
          ...(changes ? { changes } : {}),
          durationMs: Date.now() - started,
        });
        return value;
      } catch (error) {
        emit({
          event: "stack.operation.finished",
          stack,
          operation,
          result: "failed",
          durationMs: Date.now() - started,
        });
        // The store's own errors say what to do and carry no secret: the caller turns them into conditions.
        if (error instanceof StateTooLargeError || error instanceof LockLostError) throw error;
        if (held?.lost.aborted) throw new LockLostError(stack, String(held.lost.reason));
        const raw = error instanceof Error ? error.message : String(error);
        const message = redactPulumiMessage(raw, [...secrets, this.options.passphrase]);
        throw new ProvisionError(operation, stack, `${operation} of stack ${stack} failed: ${message}`);
      } finally {
        await held?.release().catch(() => {});
        await rm(workDir, { recursive: true, force: true });
      }
    });
  }

  /** The operation's state: the configured backend, or the held stack's checkpoint in a local backend. */
  private async stateOf(
    stack: string,
    workDir: string,
    held: HeldStack | undefined,
    credentials: AzureCredentials,
  ): Promise<StackState> {
    const kept = this.options.state;
    if (!held || !kept) return configuredBackend(this.options.backendUrl as string);
    const emit = this.options.onEvent ?? (() => {});
    const idOf = kept.pendingCreateId ?? ((c: AzureCredentials) => armPendingCreateIds(c.subscriptionId));
    return keptState({
      held,
      workDir,
      project: PROJECT_NAME,
      pendingCreateId: idOf(credentials),
      ...(kept.mirrorIntervalMs ? { mirrorIntervalMs: kept.mirrorIntervalMs } : {}),
      onMirrorError: (error) =>
        emit({
          event: "stack.state.mirror_failed",
          stack,
          error: redactPulumiMessage(error instanceof Error ? error.message : String(error), [
            this.options.passphrase,
          ]),
        }),
      onSettled: (adopted, cleared) =>
        emit({ event: "stack.state.pending_creates", stack, adopted, cleared }),
    });
  }

  private async workspaceOptions(workDir: string, state: StackState, credentialEnv: Record<string, string>) {
    this.command ??= PulumiCommand.get(
      this.options.pulumiRoot ? { root: this.options.pulumiRoot } : undefined,
    );
    const envVars: Record<string, string> = {
      ...this.options.env,
      ...credentialEnv,
      PULUMI_BACKEND_URL: state.backendUrl,
      PULUMI_CONFIG_PASSPHRASE: this.options.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    if (this.options.pulumiHome) envVars.PULUMI_HOME = this.options.pulumiHome;
    return {
      workDir,
      pulumiCommand: await this.command,
      envVars,
      secretsProvider: "passphrase",
      projectSettings: {
        name: PROJECT_NAME,
        runtime: "nodejs" as const,
        backend: { url: state.backendUrl },
      },
    };
  }
}

const noProgram: PulumiFn = async () => {};

/** A file backend's directory must exist before the CLI logs in to it. */
function ensureFileBackend(backendUrl: string): void {
  if (!backendUrl.startsWith("file://") || backendUrl.startsWith("file://~")) return;
  mkdirSync(fileURLToPath(backendUrl), { recursive: true });
}
