// CPU seconds and resident memory of processes, from Linux's /proc: where a benchmark's CPU and memory went on a
// machine whose cores are shared by the control plane, the operator and the bench's own servers.
import { readFileSync } from "node:fs";

/** Linux's USER_HZ: /proc times are in 1/100 s. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) process `pid` has used so far; NaN when it is gone. */
export function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command's closing parenthesis; utime and stime are the 14th and 15th of the line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** This process's CPU seconds so far (the bench: its servers and watches). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The resident set size of process `pid` now, in bytes (/proc/<pid>/status); NaN when it is gone. */
export function processRssBytes(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}
