// Child processes of the control plane: started with output to a log file, stopped with SIGTERM and then
// SIGKILL after a deadline, and killed when this Node.js process exits.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

/** How a child process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running server process whose output goes to `logFile`. */
export interface ServerProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Settles when the process has exited, for whatever reason. */
  exited: Promise<ExitStatus>;
  /** The exit status once the process has exited; undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
  /** The last lines of the log, for error messages. */
  logTail(lines?: number): string;
  /**
   * SIGTERM, then SIGKILL when it has not exited after `graceMs`. Resolves once it has exited.
   * Safe to call more than once and after the process has exited.
   */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

// A crashed or interrupted test run must not leave an apiserver behind; `exit` handlers may only do
// synchronous work, and kill() is synchronous.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

let setpriv: string | null | undefined;

// util-linux's setpriv sets PR_SET_PDEATHSIG and execs the server in place (same pid): the kernel then kills
// the server even when Node.js itself is SIGKILLed, which no exit handler can cover.
function findSetpriv(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, "setpriv"), constants.X_OK);
      setpriv = join(dir, "setpriv");
      break;
    } catch {}
  }
  return setpriv;
}

/**
 * Starts `command` with `args`, stdout and stderr appended to `logFile`.
 *
 * Guarantees: the process is killed when this Node.js process exits normally; on Linux with setpriv
 * (util-linux), also when it is killed outright.
 */
export function startServerProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
): ServerProcess {
  installExitHook();
  const fd = openSync(logFile, "a");
  const wrapper = findSetpriv();
  let child: ChildProcess;
  // Own process group: a terminal's Ctrl-C reaches only Node.js, which then stops the servers in order
  // (an apiserver whose etcd died with it would hold in-flight requests for a minute).
  const options = { stdio: ["ignore", fd, fd] as ["ignore", number, number], detached: true };
  try {
    child = wrapper
      ? spawn(wrapper, ["--pdeathsig", "KILL", "--", command, ...args], options)
      : spawn(command, args, options);
  } finally {
    closeSync(fd);
  }
  running.add(child);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const settle = (result: ExitStatus) => {
      running.delete(child);
      status ??= result;
      resolve(status);
    };
    child.once("exit", (code, signal) => settle({ code, signal }));
    // A spawn failure (binary missing) emits "error" and no "exit".
    child.once("error", () => settle({ code: null, signal: null }));
  });
  const logTail = (lines = 30) => {
    try {
      return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  };
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    exitStatus: () => status,
    logTail,
    async stop(graceMs = 10_000) {
      if (status) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"deadline">((resolve) => {
        timer = setTimeout(() => resolve("deadline"), graceMs);
      });
      const first = await Promise.race([exited, deadline]);
      clearTimeout(timer);
      if (first === "deadline") {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
