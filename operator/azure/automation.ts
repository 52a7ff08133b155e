// The Pulumi Automation API behind AzureProvisioner: one stack per account in the configured backend, the
// inline program built on the AzureOpenAIAccount component, updates of a stack queued, errors redacted.
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
import { componentSpecFor } from "./component-spec.ts";
import { azureOpenAIProgram, type ProgramFactory, ProgramOutputs } from "./inline-program.ts";
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
import { breakStaleLocks } from "./stale-locks.ts";

/** The Pulumi project every account stack belongs to. */
export const PROJECT_NAME = "modelkeys-azure";

/** A structured event for logs and metrics; it never carries a secret. */
export type ProvisionEvent =
  | { event: "stack.operation.queued"; stack: string; operation: Operation; waiting: number }
  | { event: "stack.operation.started"; stack: string; operation: Operation }
  | { event: "stack.lock.broken"; stack: string; pid: number; hostname: string; timestamp?: string }
  | {
      event: "stack.operation.finished";
      stack: string;
      operation: Operation;
      result: "succeeded" | "failed";
      changes?: Record<string, number>;
      durationMs: number;
    };
type Operation = "up" | "destroy" | "regenerateKey";

export interface PulumiAutomationOptions {
  /** The state backend, e.g. file:///var/lib/modelkeys/pulumi, s3://…, azblob://… (PULUMI_BACKEND_URL). */
  backendUrl: string;
  /** Encrypts the stacks' secrets (PULUMI_CONFIG_PASSPHRASE); the operator reads it from a Secret. */
  passphrase: string;
  /** A directory holding bin/pulumi (MODELKEYS_PULUMI_DIR). @default the `pulumi` on PATH */
  pulumiRoot?: string;
  /** PULUMI_HOME: plugins and CLI state. @default the CLI's (~/.pulumi) */
  pulumiHome?: string;
  /** Where each operation's short-lived workspace directory is made (then removed). @default os.tmpdir() */
  workRoot?: string;
  /** Builds the inline program. @default {@link azureOpenAIProgram} */
  program?: ProgramFactory;
  /** Regenerates keys. @default {@link ArmAccountKeys} against public Azure */
  keys?: AccountKeyService;
  /** Refresh the stack from Azure before each update, so drift is corrected. @default true */
  refresh?: boolean;
  /** More environment for the CLI (and the plugins it starts). */
  env?: Record<string, string>;
  /** Receives an event per queued, started and finished operation. */
  onEvent?: (event: ProvisionEvent) => void;
}

/**
 * {@link AzureProvisioner} on the Pulumi Automation API and a local `pulumi` CLI.
 *
 * Guarantees: one stack per account ({@link stackNameFor}); operations on one stack run one at a time in
 * call order, other stacks' run alongside; each operation works in a fresh workspace directory that is
 * removed afterwards, so nothing but the backend holds state; credentials reach azure-native as ARM_*
 * variables of the stack's CLI, so the state never holds them and every operation uses the current ones;
 * the keys in the state are encrypted with the passphrase; error messages are redacted.
 * Assumptions: one operator process (the leader) drives the stacks of a backend.
 * Caveats: a process killed mid-update leaves the backend's lock on that stack. On a file backend the next
 * operation removes it when it was taken on this host by a process that is gone ({@link breakStaleLocks});
 * otherwise updates fail with Pulumi's "currently locked" message until it is removed by hand.
 */
export class PulumiAutomationProvisioner implements AzureProvisioner {
  private readonly queue = new StackQueue();
  private readonly program: ProgramFactory;
  private readonly keys: AccountKeyService;
  private command: Promise<PulumiCommand> | undefined;

  constructor(private readonly options: PulumiAutomationOptions) {
    this.program = options.program ?? azureOpenAIProgram;
    this.keys = options.keys ?? new ArmAccountKeys();
    ensureFileBackend(options.backendUrl);
  }

  async up(
    account: AccountSpec,
    deployments: DeploymentSpec[],
    credentials: AzureCredentials,
  ): Promise<ProvisionResult> {
    const spec = componentSpecFor(account, deployments);
    const stackName = stackNameFor(account);
    return this.operate("up", stackName, credentialSecrets(credentials), async (workDir) => {
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: PROJECT_NAME, program: this.program({ account: spec, stack: stackName }) },
        await this.workspaceOptions(workDir, azureCredentialEnv(account, credentials)),
      );
      await stack.setAllConfig(azureNativeConfig(account));
      const result = await stack.up({ refresh: this.options.refresh ?? true, color: "never" });
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
    await this.operate("destroy", stackName, credentialSecrets(credentials), async (workDir) => {
      let stack: Stack;
      try {
        stack = await LocalWorkspace.selectStack(
          { stackName, projectName: PROJECT_NAME, program: noProgram },
          await this.workspaceOptions(workDir, azureCredentialEnv(account, credentials)),
        );
      } catch (error) {
        if (error instanceof StackNotFoundError) return { value: undefined };
        throw error;
      }
      const result = await stack.destroy({ refresh: this.options.refresh ?? true, color: "never" });
      await stack.workspace.removeStack(stackName);
      return { changes: result.summary.resourceChanges, value: undefined };
    });
  }

  async regenerateKey(
    account: AzureAccountRef,
    key: KeyName,
    credentials: AzureCredentials,
  ): Promise<AccountKeys> {
    const stackName = stackNameFor(account);
    return this.operate("regenerateKey", stackName, credentialSecrets(credentials), async () => ({
      value: await this.keys.regenerate(account, key, credentials),
    }));
  }

  /** Queues `work` on the stack, gives it a workspace directory, reports it, and redacts its failure. */
  private operate<T>(
    operation: Operation,
    stack: string,
    secrets: string[],
    work: (workDir: string) => Promise<{ value: T; changes?: Record<string, number> }>,
  ): Promise<T> {
    const emit = this.options.onEvent ?? (() => {});
    emit({ event: "stack.operation.queued", stack, operation, waiting: this.queue.pending(stack) });
    return this.queue.run(stack, async () => {
      emit({ event: "stack.operation.started", stack, operation });
      const started = Date.now();
      const workDir = await mkdtemp(join(this.options.workRoot ?? tmpdir(), "modelkeys-pulumi-"));
      try {
        if (operation !== "regenerateKey") {
          for (const lock of await breakStaleLocks(this.options.backendUrl, PROJECT_NAME, stack)) {
            emit({ event: "stack.lock.broken", stack, ...lock });
          }
        }
        const { value, changes } = await work(workDir);
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
        const raw = error instanceof Error ? error.message : String(error);
        const message = redactPulumiMessage(raw, [...secrets, this.options.passphrase]);
        throw new ProvisionError(operation, stack, `${operation} of stack ${stack} failed: ${message}`);
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    });
  }

  private async workspaceOptions(workDir: string, credentialEnv: Record<string, string>) {
    this.command ??= PulumiCommand.get(
      this.options.pulumiRoot ? { root: this.options.pulumiRoot } : undefined,
    );
    const envVars: Record<string, string> = {
      ...this.options.env,
      ...credentialEnv,
      PULUMI_BACKEND_URL: this.options.backendUrl,
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
        backend: { url: this.options.backendUrl },
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
