// The port through which the provisioner keeps each stack's Pulumi checkpoint outside the pod: a lock per
// stack and the checkpoint behind it. Pure types; the Kubernetes implementation lives in operator/pulumi-state.

/** Which stack, and where its state is kept (for the Kubernetes store: the account's namespace). */
export interface StackKey {
  /** The namespace (or other scope) holding the stack's state. */
  namespace: string;
  /** The Pulumi stack name ({@link import("./stack-name.ts").stackNameFor}). */
  stack: string;
}

/**
 * A stack's checkpoint in the shape the Automation API imports (`Stack.importStack`) and exports: the
 * deployment with its resources, pending operations and secrets provider state. Secret values inside are
 * ciphertext of the passphrase secrets provider (taken from the backend's file: `exportStack` would
 * decrypt them); nothing here decrypts them.
 */
export interface Checkpoint {
  version: number;
  deployment: unknown;
}

/** A stack's lock while it is held: the checkpoint is read and written through it, fenced by it. */
export interface HeldStack {
  readonly key: StackKey;
  /** Aborts when the lock is lost (not renewed in time, or taken over): stop working on the stack. */
  readonly lost: AbortSignal;
  /** The stored checkpoint; undefined when the stack has none (never updated, or removed). */
  load(): Promise<Checkpoint | undefined>;
  /**
   * Stores `checkpoint` in place of the previous one, whole or not at all. Throws {@link StateTooLargeError}
   * (nothing written) when it does not fit, {@link LockLostError} when this holder no longer holds the stack
   * or another holder wrote since this one last read or wrote.
   */
  save(checkpoint: Checkpoint): Promise<void>;
  /** Deletes the stored checkpoint (the stack was destroyed); a missing one is already gone. */
  remove(): Promise<void>;
  /** Stops renewing and gives the lock up, so the next holder need not wait for it to expire. */
  release(): Promise<void>;
}

/**
 * Keeps stacks' checkpoints where every replica of the operator can reach them.
 *
 * Guarantees (of an implementation): one holder of a stack at a time across processes; a lock that is not
 * renewed (its process killed) is taken over after it expires; a holder that lost its lock cannot overwrite
 * what the next holder wrote (fencing); a save is all or nothing.
 */
export interface StackStateStore {
  /** Takes the stack's lock, waiting while another holder has it; rejects if `signal` aborts first. */
  lock(key: StackKey, signal?: AbortSignal): Promise<HeldStack>;
}

/** A checkpoint larger than the store can hold; nothing was written and the previous one stays. */
export class StateTooLargeError extends Error {
  constructor(
    readonly stackName: string,
    /** The stored (compressed) size. */
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `the Pulumi state of stack ${stackName} is ${bytes} bytes compressed, over the ${limitBytes}-byte limit of its Secret; the previous state is kept (set PULUMI_BACKEND_URL to a remote backend for stacks this large)`,
    );
    this.name = "StateTooLargeError";
  }
}

/** The holder lost the stack's lock (expired, taken over, or the state was written by another holder). */
export class LockLostError extends Error {
  constructor(
    readonly stackName: string,
    reason: string,
  ) {
    super(`lost the lock of stack ${stackName}: ${reason}`);
    this.name = "LockLostError";
  }
}
