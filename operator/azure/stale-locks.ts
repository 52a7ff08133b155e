// Recovers a file backend's stack from a crash: removes the stack's update locks left by a process of this
// host that no longer runs, so a killed operator does not leave the stack locked until someone steps in.
import { readdir, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const LockFile = z.object({ pid: z.number().int(), hostname: z.string(), timestamp: z.string().optional() });

/** A removed lock: who held it. */
export interface BrokenLock {
  pid: number;
  hostname: string;
  timestamp?: string;
}

export interface StaleLockOptions {
  /** @default os.hostname() */
  hostname?: string;
  /** Whether a process of this host is running. @default signal 0 */
  isRunning?: (pid: number) => boolean;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the locks on `stack` in the file backend at `backendUrl` that were taken on this host by a
 * process that is gone; returns them. Other backends are left alone (returns []).
 *
 * Guarantees: a lock of another host, or of a process still running here, is never removed, so a live
 * update (this process's own CLI, or another replica's) keeps its lock.
 * Caveats: a lock left by a pod that was rescheduled to another host stays; it is removed by hand
 * (pulumi/README.md, Troubleshooting). A reused pid of a live process also keeps a stale lock.
 */
export async function breakStaleLocks(
  backendUrl: string,
  project: string,
  stack: string,
  options: StaleLockOptions = {},
): Promise<BrokenLock[]> {
  if (!backendUrl.startsWith("file://") || backendUrl.startsWith("file://~")) return [];
  const locks = join(fileURLToPath(backendUrl), ".pulumi", "locks");
  const organizations = await readdir(locks).catch(() => [] as string[]);
  // Project-scoped layout (locks/<organization>/<project>/<stack>/) and the legacy one (locks/<stack>/).
  const dirs = [...organizations.map((org) => join(locks, org, project, stack)), join(locks, stack)];
  const here = options.hostname ?? hostname();
  const isRunning = options.isRunning ?? processRuns;
  const broken: BrokenLock[] = [];
  for (const dir of dirs) {
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith(".json"))) {
      const parsed = LockFile.safeParse(
        await readFile(join(dir, file), "utf8")
          .then(JSON.parse)
          .catch(() => undefined),
      );
      if (!parsed.success || parsed.data.hostname !== here || isRunning(parsed.data.pid)) continue;
      await rm(join(dir, file), { force: true });
      await rm(join(dir, `${file}.attrs`), { force: true });
      broken.push(parsed.data);
    }
  }
  return broken;
}
