import { describe, expect, it } from "vitest";
import { createWorkQueue, type ProcessResult, type WorkQueueOptions } from "../../operator/queue.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

type Outcome = { ok: ProcessResult } | { error: unknown };

/** A queue whose runs the test finishes by hand, recording when each key ran. */
function harness(overrides: Partial<WorkQueueOptions> = {}) {
  const clock = new FakeClock();
  const starts: { key: string; at: number }[] = [];
  const open = new Map<string, ((outcome: Outcome) => void)[]>();
  let running = 0;
  let maxRunning = 0;
  const runningByKey = new Map<string, number>();
  let maxPerKey = 0;
  const depths: number[] = [];
  const queue = createWorkQueue({
    concurrency: 2,
    clock,
    random: () => 0.5,
    baseDelayMs: 500,
    maxDelayMs: 8_000,
    onDepth: (d) => depths.push(d),
    process: (key) => {
      starts.push({ key, at: clock.now() });
      running++;
      maxRunning = Math.max(maxRunning, running);
      runningByKey.set(key, (runningByKey.get(key) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, runningByKey.get(key) ?? 0);
      return new Promise<ProcessResult>((resolve, reject) => {
        const finish = (outcome: Outcome) => {
          running--;
          runningByKey.set(key, (runningByKey.get(key) ?? 1) - 1);
          if ("error" in outcome) reject(outcome.error);
          else resolve(outcome.ok);
        };
        open.set(key, [...(open.get(key) ?? []), finish]);
      });
    },
    ...overrides,
  });
  /** Finishes the oldest open run of `key`. */
  const finish = async (key: string, outcome: Outcome = { ok: undefined }) => {
    const pending = open.get(key) ?? [];
    const next = pending.shift();
    if (!next) throw new Error(`no open run of ${key}`);
    next(outcome);
    await settle();
  };
  const runsOf = (key: string) => starts.filter((s) => s.key === key).map((s) => s.at - 1_000_000);
  return {
    clock,
    queue,
    starts,
    finish,
    runsOf,
    depths,
    maxRunning: () => maxRunning,
    maxPerKey: () => maxPerKey,
    isOpen: (key: string) => (open.get(key) ?? []).length > 0,
  };
}

const fail = (error: unknown = new Error("transient")): Outcome => ({ error });

describe("work queue", () => {
  it("runs a key added many times while waiting only once", async () => {
    const h = harness({ concurrency: 1 });
    h.queue.add("blocker");
    await settle();
    for (let i = 0; i < 5; i++) h.queue.add("a");
    expect(h.queue.depth()).toBe(1);
    await h.finish("blocker");
    await h.finish("a");
    await h.clock.advance(60_000);
    expect(h.runsOf("a")).toEqual([0]);
  });

  it("re-runs a key added during its run exactly once, after it finishes, never concurrently", async () => {
    const h = harness();
    h.queue.add("a");
    await settle();
    h.queue.add("a");
    h.queue.add("a");
    h.queue.add("a");
    await settle();
    expect(h.starts).toHaveLength(1);
    await h.finish("a");
    expect(h.starts).toHaveLength(2);
    await h.finish("a");
    await h.clock.advance(60_000);
    expect(h.starts).toHaveLength(2);
    expect(h.maxPerKey()).toBe(1);
  });

  it("bounds concurrency and starts waiting keys in order", async () => {
    const h = harness({ concurrency: 3 });
    for (const k of ["a", "b", "c", "d", "e", "f"]) h.queue.add(k);
    await settle();
    expect(h.starts.map((s) => s.key)).toEqual(["a", "b", "c"]);
    expect(h.queue.running()).toBe(3);
    expect(h.queue.depth()).toBe(3);
    await h.finish("b");
    expect(h.starts.map((s) => s.key)).toEqual(["a", "b", "c", "d"]);
    for (const k of ["a", "c", "d", "e", "f"]) if (h.isOpen(k)) await h.finish(k);
    for (const k of ["e", "f"]) if (h.isOpen(k)) await h.finish(k);
    expect(h.starts.map((s) => s.key).sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(h.maxRunning()).toBe(3);
    expect(h.depths.at(-1)).toBe(0);
    expect(Math.max(...h.depths)).toBe(3);
  });

  it("addAfter keeps the earliest time asked", async () => {
    const h = harness();
    h.queue.addAfter("a", 1_000);
    h.queue.addAfter("a", 400);
    h.queue.addAfter("a", 5_000);
    h.queue.addAfter("b", 400);
    h.queue.addAfter("b", 1_000);
    await h.clock.advance(399);
    expect(h.starts).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.runsOf("a")).toEqual([400]);
    expect(h.runsOf("b")).toEqual([400]);
    await h.finish("a");
    await h.finish("b");
    await h.clock.advance(60_000);
    expect(h.starts).toHaveLength(2);
  });

  it("add pulls a delayed key forward", async () => {
    const h = harness();
    h.queue.addAfter("a", 10_000);
    await h.clock.advance(100);
    h.queue.add("a");
    await settle();
    expect(h.runsOf("a")).toEqual([100]);
    await h.finish("a");
    await h.clock.advance(20_000);
    expect(h.runsOf("a")).toEqual([100]);
  });

  it("addAfter during a run schedules the next run from when it was asked", async () => {
    const h = harness();
    h.queue.add("a");
    await settle();
    h.queue.addAfter("a", 1_000);
    await h.clock.advance(200);
    await h.finish("a");
    expect(h.runsOf("a")).toEqual([0]);
    await h.clock.advance(799);
    expect(h.runsOf("a")).toEqual([0]);
    await h.clock.advance(1);
    expect(h.runsOf("a")).toEqual([0, 1_000]);
  });

  it("requeues after requeueAfterMs from a successful run", async () => {
    const h = harness();
    h.queue.add("a");
    await settle();
    await h.finish("a", { ok: { requeueAfterMs: 3_000 } });
    await h.clock.advance(2_999);
    expect(h.runsOf("a")).toEqual([0]);
    await h.clock.advance(1);
    expect(h.runsOf("a")).toEqual([0, 3_000]);
  });

  it("backs off exponentially with full jitter per key, capped, and resets on success", async () => {
    const h = harness({ random: () => 0.5 });
    h.queue.add("a");
    await settle();
    // Delays for failures 1..6 with random 0.5: 250, 500, 1000, 2000, 4000, 4000 (cap 8000 × 0.5).
    const expectedGaps = [250, 500, 1_000, 2_000, 4_000, 4_000];
    for (const gap of expectedGaps) {
      const before = h.runsOf("a").length;
      await h.finish("a", fail());
      await h.clock.advance(gap - 1);
      expect(h.runsOf("a")).toHaveLength(before);
      await h.clock.advance(1);
      expect(h.runsOf("a")).toHaveLength(before + 1);
    }
    await h.finish("a");
    // After a success the next failure starts from the base again.
    h.queue.add("a");
    await settle();
    const before = h.runsOf("a").length;
    await h.finish("a", fail());
    await h.clock.advance(250);
    expect(h.runsOf("a")).toHaveLength(before + 1);
  });

  it("draws the jitter from random(), independently per key", async () => {
    const values = [0.1, 0.9];
    const h = harness({ random: () => values.shift() ?? 0 });
    h.queue.add("a");
    h.queue.add("b");
    await settle();
    await h.finish("a", fail()); // 0.1 × 500 = 50
    await h.finish("b", fail()); // 0.9 × 500 = 450
    await h.clock.advance(50);
    expect(h.runsOf("a")).toEqual([0, 50]);
    expect(h.runsOf("b")).toEqual([0]);
    await h.clock.advance(400);
    expect(h.runsOf("b")).toEqual([0, 450]);
  });

  it("holds a key for at least retryAfterMs, even against add()", async () => {
    const h = harness({ random: () => 0 });
    h.queue.add("a");
    await settle();
    await h.finish("a", fail(Object.assign(new Error("429"), { retryAfterMs: 10_000 })));
    h.queue.add("a");
    await h.clock.advance(5_000);
    h.queue.add("a");
    await h.clock.advance(4_999);
    expect(h.runsOf("a")).toEqual([0]);
    await h.clock.advance(1);
    expect(h.runsOf("a")).toEqual([0, 10_000]);
    // A success lifts the hold.
    await h.finish("a");
    h.queue.add("a");
    await settle();
    expect(h.runsOf("a")).toEqual([0, 10_000, 10_000]);
  });

  it("runs a key added during a failed run at once (a change deserves a look)", async () => {
    const h = harness({ random: () => 0.99 });
    h.queue.add("a");
    await settle();
    h.queue.add("a");
    await h.finish("a", fail());
    expect(h.runsOf("a")).toEqual([0, 0]);
  });

  it("reports failures with the retry delay", async () => {
    const seen: [string, number][] = [];
    const h = harness({ random: () => 0.5, onFailure: (key, _err, ms) => seen.push([key, ms]) });
    h.queue.add("a");
    await settle();
    await h.finish("a", fail());
    expect(seen).toEqual([["a", 250]]);
  });

  it("shutdown stops taking work and waits for runs in flight", async () => {
    const h = harness({ concurrency: 1 });
    h.queue.add("a");
    h.queue.add("b");
    h.queue.addAfter("c", 1_000);
    await settle();
    let done = false;
    const stopped = h.queue.shutdown().then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    h.queue.add("d");
    await h.finish("a");
    await stopped;
    expect(done).toBe(true);
    await h.clock.advance(60_000);
    expect(h.starts.map((s) => s.key)).toEqual(["a"]);
    expect(h.clock.pending()).toBe(0);
  });

  it("shutdown of an idle queue resolves at once", async () => {
    const h = harness();
    await expect(h.queue.shutdown()).resolves.toBeUndefined();
  });
});
