// Copies a running update's checkpoint out of the pod as it changes: the local file backend rewrites the
// stack's file after every step, and each new version is saved, so a kill mid-update loses at most a step.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Clock, sleep, systemClock } from "./ports.ts";
import type { Checkpoint } from "./state-store.ts";

export interface CheckpointMirrorOptions {
  /** The file backend's directory (the path of its file:// URL). */
  backendDir: string;
  project: string;
  stack: string;
  /** Stores one version; called one at a time, in order. */
  save(checkpoint: Checkpoint): Promise<void>;
  /** Told of a failed save (the mirror goes on; the final save after the update decides). */
  onError?(error: unknown): void;
  /** How often the file is looked at. @default 1000 */
  intervalMs?: number;
  clock?: Clock;
}

/** A running mirror. */
export interface CheckpointMirror {
  /** Stops looking, after one last look (so the last version written is saved). */
  stop(): Promise<void>;
}

/**
 * Polls the stack's checkpoint file in a file backend and saves every version that differs from the last.
 *
 * Guarantees: saves run one at a time and never overlap a look; a version is saved whole (the backend
 * replaces the file by rename, so a read sees one version); a file without a deployment yet is skipped.
 * Caveats: relies on the file backend's layout (.pulumi/stacks/<project>/<stack>.json, or the older
 * .pulumi/stacks/<stack>.json) and its VersionedCheckpoint format ({version, checkpoint: {latest}}).
 */
export function mirrorCheckpoint(options: CheckpointMirrorOptions): CheckpointMirror {
  const clock = options.clock ?? systemClock;
  const stacks = join(options.backendDir, ".pulumi", "stacks");
  const files = [
    join(stacks, options.project, `${options.stack}.json`),
    join(stacks, `${options.stack}.json`),
  ];
  const stop = new AbortController();
  let last: string | undefined;

  // The file is read whole each time: its mtime is too coarse to tell two quick writes apart.
  const look = async () => {
    for (const file of files) {
      const text = await readFile(file, "utf8").catch(() => undefined);
      if (text === undefined) continue;
      if (text === last) return;
      last = text;
      const checkpoint = parseCheckpointFile(text);
      if (checkpoint) await options.save(checkpoint);
      return;
    }
  };
  const lookSafely = () => look().catch((error: unknown) => options.onError?.(error));

  const running = (async () => {
    while (!stop.signal.aborted) {
      await sleep(clock, options.intervalMs ?? 1000, stop.signal);
      if (!stop.signal.aborted) await lookSafely();
    }
    await lookSafely(); // the last version written before stop
  })();

  return {
    async stop() {
      stop.abort();
      await running;
    },
  };
}

/** Where a file backend keeps a stack's checkpoint: the project-scoped layout first, then the older one. */
function checkpointFiles(backendDir: string, project: string, stack: string): string[] {
  const stacks = join(backendDir, ".pulumi", "stacks");
  return [join(stacks, project, `${stack}.json`), join(stacks, `${stack}.json`)];
}

/** The exported form of a file backend's VersionedCheckpoint; undefined when it holds no deployment yet. */
function parseCheckpointFile(text: string): Checkpoint | undefined {
  const parsed = JSON.parse(text) as { version?: number; checkpoint?: { latest?: unknown } };
  if (typeof parsed.version !== "number" || !parsed.checkpoint?.latest) return undefined;
  return { version: parsed.version, deployment: parsed.checkpoint.latest };
}

/**
 * The stack's checkpoint as the file backend holds it, secrets as ciphertext. (The Automation API's
 * `exportStack` runs `pulumi stack export --show-secrets`, which decrypts them: never stored.)
 */
export async function readCheckpoint(
  backendDir: string,
  project: string,
  stack: string,
): Promise<Checkpoint | undefined> {
  for (const file of checkpointFiles(backendDir, project, stack)) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) return parseCheckpointFile(text);
  }
  return undefined;
}
