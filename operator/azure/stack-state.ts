// Where one operation's CLI keeps the stack: the configured backend (PULUMI_BACKEND_URL), or a fresh local
// file backend filled from the state store before the operation, mirrored to it during, and saved after.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { mirrorCheckpoint, readCheckpoint } from "./checkpoint-mirror.ts";
import { type PendingCreateId, settlePendingCreates } from "./pending-creates.ts";
import type { HeldStack } from "./state-store.ts";

/** What restoring found: whether the stack has state, and interrupted creates it settled. */
export interface Restored {
  hasState: boolean;
  adopted: string[];
  cleared: string[];
}

/** One operation's view of its stack's state. */
export interface StackState {
  /** The backend the CLI logs in to. */
  readonly backendUrl: string;
  /** Aborts when the stack's lock is lost (never, for a configured backend). */
  readonly signal: AbortSignal | undefined;
  /** The kept checkpoint, if any (a configured backend: undefined, the backend has it). */
  stored(): Promise<{ version: number; deployment: unknown } | undefined>;
  /** Imports the kept checkpoint into `stack` (just created in the fresh backend), settling pending creates. */
  restore(stack: Stack): Promise<Restored>;
  /** Runs `operation` while the stack's checkpoint is mirrored to the store. */
  mirrored<T>(operation: () => Promise<T>): Promise<T>;
  /** Saves the stack's checkpoint as the operation left it (the authoritative save after an operation). */
  persist(): Promise<void>;
  /** Deletes the kept checkpoint (after a destroy). */
  remove(): Promise<void>;
  /** Whether the state is kept in the store (else in the configured backend). */
  readonly kept: boolean;
}

/** The configured backend: the CLI reads and writes it itself. */
export function configuredBackend(backendUrl: string): StackState {
  return {
    backendUrl,
    signal: undefined,
    kept: false,
    stored: async () => undefined,
    restore: async () => ({ hasState: true, adopted: [], cleared: [] }),
    mirrored: (operation) => operation(),
    persist: async () => {},
    remove: async () => {},
  };
}

export interface KeptStateOptions {
  held: HeldStack;
  /** The operation's workspace directory; the local backend is made inside it (and removed with it). */
  workDir: string;
  project: string;
  /** Ids of interrupted creates ({@link settlePendingCreates}). */
  pendingCreateId: PendingCreateId;
  mirrorIntervalMs?: number;
  /** Told of a failed mirror save. */
  onMirrorError?(error: unknown): void;
  /** Told when a restored checkpoint had interrupted creates, and what became of them. */
  onSettled?(adopted: string[], cleared: string[]): void;
}

/**
 * The store's checkpoint in a local file backend for one operation.
 *
 * Guarantees: the checkpoint is read once (through the held lock); every version the CLI writes during
 * {@link StackState.mirrored} is saved in order; `persist` saves the stack's checkpoint after the mirror has
 * stopped, so the last save is the final state; secrets stay encrypted as Pulumi wrote them (the checkpoint
 * is read from the backend's file, never through `exportStack`, which decrypts).
 */
export async function keptState(options: KeptStateOptions): Promise<StackState> {
  const { held } = options;
  const backendDir = join(options.workDir, "backend");
  await mkdir(backendDir, { recursive: true });
  let checkpoint: { version: number; deployment: unknown } | undefined | null = null;
  const stored = async () => {
    if (checkpoint === null) checkpoint = await held.load();
    return checkpoint;
  };
  return {
    backendUrl: pathToFileURL(backendDir).href,
    signal: held.lost,
    kept: true,
    stored,
    async restore(stack) {
      const found = await stored();
      if (!found) return { hasState: false, adopted: [], cleared: [] };
      const settled = settlePendingCreates(found.deployment, options.pendingCreateId);
      if (settled.adopted.length + settled.cleared.length > 0) {
        options.onSettled?.(settled.adopted, settled.cleared);
      }
      await stack.importStack({ version: found.version, deployment: settled.deployment });
      return { hasState: true, adopted: settled.adopted, cleared: settled.cleared };
    },
    async mirrored(operation) {
      const mirror = mirrorCheckpoint({
        backendDir,
        project: options.project,
        stack: held.key.stack,
        save: (c) => held.save(c),
        ...(options.onMirrorError ? { onError: options.onMirrorError } : {}),
        ...(options.mirrorIntervalMs ? { intervalMs: options.mirrorIntervalMs } : {}),
      });
      try {
        return await operation();
      } finally {
        await mirror.stop();
      }
    },
    async persist() {
      // From the backend's file, not exportStack: that decrypts the secrets (--show-secrets).
      const checkpoint = await readCheckpoint(backendDir, options.project, held.key.stack);
      if (!checkpoint) throw new Error(`the stack ${held.key.stack} left no checkpoint in its backend`);
      await held.save(checkpoint);
    },
    remove: () => held.remove(),
  };
}
