// What the Pulumi provisioner is given (engine, state, program) and the events it reports.
import type { AccountKeyService } from "./account-keys.ts";
import type { ProgramFactory } from "./inline-program.ts";
import type { PendingCreateId } from "./pending-creates.ts";
import type { AzureCredentials } from "./provisioner.ts";
import type { StackStateStore } from "./state-store.ts";

/** A structured event for logs and metrics; it never carries a secret. */
export type ProvisionEvent =
  | { event: "stack.operation.queued"; stack: string; operation: Operation; waiting: number }
  | { event: "stack.operation.started"; stack: string; operation: Operation }
  | { event: "stack.lock.broken"; stack: string; pid: number; hostname: string; timestamp?: string }
  | { event: "stack.state.pending_creates"; stack: string; adopted: string[]; cleared: string[] }
  | { event: "stack.state.mirror_failed"; stack: string; error: string }
  | {
      event: "stack.operation.finished";
      stack: string;
      operation: Operation;
      result: "succeeded" | "failed";
      changes?: Record<string, number>;
      durationMs: number;
    };
export type Operation = "up" | "destroy" | "regenerateKey";

/** Stacks' state kept in a {@link StackStateStore} (the default of the operator: Secrets and Leases). */
export interface KeptStateOptions {
  store: StackStateStore;
  /** The namespace of an account that names none ({@link AzureAccountRef.namespace}). */
  namespace: string;
  /** Stops waiting for a stack's lock (e.g. at shutdown): the operation then fails. @default never */
  signal?: AbortSignal;
  /** How often a running update's checkpoint is looked at and saved when changed. @default 1000 */
  mirrorIntervalMs?: number;
  /**
   * The id of an interrupted create's resource, were it created (adopted, then confirmed by the refresh).
   * @default the ARM ids of the component's resources ({@link armPendingCreateIds})
   */
  pendingCreateId?: (credentials: AzureCredentials) => PendingCreateId;
}

export interface PulumiAutomationOptions {
  /**
   * A state backend the CLI uses itself, e.g. s3://…, azblob://…, file://… (PULUMI_BACKEND_URL); when set,
   * `state` is not used. One of the two is required.
   */
  backendUrl?: string;
  /** The stacks' state in a store, restored into a local file backend around each operation. */
  state?: KeptStateOptions;
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
