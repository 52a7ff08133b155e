// Crash recovery on a file backend: a stack's lock is removed only when this host took it and the process
// that took it is gone; live processes', other hosts' and other stacks' locks stay.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { breakStaleLocks } from "../../operator/azure/stale-locks.ts";

let backend: string;
const HOST = "operator-pod-1";
const RUNNING = new Set([4242]);
const options = { hostname: HOST, isRunning: (pid: number) => RUNNING.has(pid) };

function lock(dir: string[], name: string, holder: { pid: number; hostname: string }): string {
  const path = join(backend, ".pulumi", "locks", ...dir);
  mkdirSync(path, { recursive: true });
  const file = join(path, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({ ...holder, username: "modelkeys", timestamp: "2026-01-01T00:00:00Z" }),
  );
  writeFileSync(`${file}.attrs`, "{}");
  return file;
}

beforeEach(() => {
  backend = mkdtempSync(join(tmpdir(), "modelkeys-locks-"));
});
afterEach(() => rmSync(backend, { recursive: true, force: true }));

describe("breakStaleLocks", () => {
  it("removes this host's lock whose process is gone, with its attributes file", async () => {
    const file = lock(["organization", "proj", "stack-a"], "l1", { pid: 1111, hostname: HOST });
    const broken = await breakStaleLocks(pathToFileURL(backend).href, "proj", "stack-a", options);
    expect(broken).toEqual([{ pid: 1111, hostname: HOST, timestamp: "2026-01-01T00:00:00Z" }]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.attrs`)).toBe(false);
  });

  it("keeps a lock whose process still runs, another host's lock, and other stacks' locks", async () => {
    const live = lock(["organization", "proj", "stack-a"], "live", { pid: 4242, hostname: HOST });
    const remote = lock(["organization", "proj", "stack-a"], "remote", {
      pid: 1111,
      hostname: "operator-pod-2",
    });
    const other = lock(["organization", "proj", "stack-b"], "other", { pid: 1111, hostname: HOST });
    expect(await breakStaleLocks(pathToFileURL(backend).href, "proj", "stack-a", options)).toEqual([]);
    for (const file of [live, remote, other]) expect(existsSync(file)).toBe(true);
  });

  it("also reads the legacy layout without projects", async () => {
    const file = lock(["stack-a"], "old", { pid: 1111, hostname: HOST });
    expect(await breakStaleLocks(pathToFileURL(backend).href, "proj", "stack-a", options)).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it("leaves unreadable lock files and non-file backends alone", async () => {
    const path = join(backend, ".pulumi", "locks", "organization", "proj", "stack-a");
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, "garbage.json"), "not json");
    expect(await breakStaleLocks(pathToFileURL(backend).href, "proj", "stack-a", options)).toEqual([]);
    expect(existsSync(join(path, "garbage.json"))).toBe(true);
    expect(await breakStaleLocks("s3://bucket/state", "proj", "stack-a", options)).toEqual([]);
  });

  it("finds nothing when the backend has no locks yet", async () => {
    expect(await breakStaleLocks(pathToFileURL(join(backend, "fresh")).href, "proj", "stack-a")).toEqual([]);
  });
});
