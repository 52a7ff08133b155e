// A child process and everything it starts, killed at once as a pod's end kills its container. A kill of the
// child's process group is not enough: the Pulumi CLI starts its provider plugins in process groups of their own,
// which then outlive the "crash" (and the test run), holding memory and finishing work the test meant to cut.
// Every process of the family inherits one environment marker; the kill finds them by it in /proc (Linux).
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

const MARKER = "MODELKEYS_TEST_PROCESS_FAMILY";

/** A marker for one child's family: its `env` goes into the child's environment. */
export interface ProcessFamily {
  env: Record<string, string>;
  /** The pids alive now that carry the marker. */
  members(): number[];
  /** SIGKILLs every member; resolves with how many there were. */
  kill(): number;
}

export function processFamily(): ProcessFamily {
  const id = randomBytes(8).toString("hex");
  const needle = `${MARKER}=${id}\0`;
  const members = () =>
    readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle);
        } catch {
          return false; // gone meanwhile, or not ours to read
        }
      })
      .map(Number);
  return {
    env: { [MARKER]: id },
    members,
    kill() {
      const pids = members();
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      return pids.length;
    },
  };
}
