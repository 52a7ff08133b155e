// The work queue between watch events and reconciles: de-duplicating, one run at a time per key, bounded
// concurrency, delayed re-queues, and per-key exponential backoff with full jitter on failure.
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";

/** What a run may ask for: run the key again after this long (unless something asks sooner). */
export type ProcessResult = { requeueAfterMs?: number } | undefined;

export interface WorkQueueOptions {
  /** Runs at once, across keys (≥ 1). */
  concurrency: number;
  /** Reconciles one key. A throw is a transient failure: the key is retried with backoff. */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async function that returns nothing is Promise<void>.
  process: (key: string) => Promise<ProcessResult | void>;
  /** First retry delay cap after a failure. @default 500 */
  baseDelayMs?: number;
  /** Largest retry delay. @default 300000 (5 minutes) */
  maxDelayMs?: number;
  /** Uniform in [0, 1): the jitter. @default Math.random */
  random?: () => number;
  /** @default systemClock */
  clock?: Clock;
  /** Called with the number of keys waiting to run whenever it changes. */
  onDepth?: (depth: number) => void;
  /** Called after a failed run with the delay before its retry (for logs; the queue itself never logs). */
  onFailure?: (key: string, error: unknown, retryInMs: number) => void;
}

export interface WorkQueue {
  /** Runs `key` as soon as a slot is free (earlier than any delayed run of it). */
  add(key: string): void;
  /** Runs `key` after `ms`, unless it is already due sooner. */
  addAfter(key: string, ms: number): void;
  /** Keys waiting to run (not delayed, not running). */
  depth(): number;
  /** Keys running now. */
  running(): number;
  /** Stops taking work, drops waiting and delayed keys, and resolves once the runs in flight have finished. */
  shutdown(): Promise<void>;
}

/**
 * Creates a work queue.
 *
 * Guarantees:
 * - A key waits at most once: adding a waiting key does nothing; a delayed key is moved to the earliest time asked.
 * - Never two runs of one key at once: a key added while it runs is run once more after it finishes (however many
 *   times it was added).
 * - At most `concurrency` runs at once; waiting keys start in the order they became due.
 * - A failed run (a throw) is retried after a delay drawn uniformly from [0, min(maxDelayMs, baseDelayMs·2^(n-1)))
 *   for its n-th failure in a row ("full jitter"); a success resets n. An error with a numeric `retryAfterMs`
 *   (e.g. from a `Retry-After` header) holds the key for at least that long: nothing runs it sooner, not even add().
 * - `{requeueAfterMs}` from a run schedules the key again (the earliest request wins).
 * - After shutdown() no run starts; it resolves when the runs in flight have ended.
 * Assumptions: `process` is level-based (it does not care why it was called), so merging many adds into one run is
 * correct. Keys are small strings such as `Kind/namespace/name`.
 * Caveats: like client-go, add() during a failure backoff runs the key at once (a change deserves a look); an event
 * handler that enqueues on the operator's own status writes should make those writes stable, or the backoff is
 * shortened. Per-key state (failure counts) is kept until the key succeeds.
 */
export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 300_000;
  const concurrency = Math.max(1, Math.floor(options.concurrency));

  const ready: string[] = [];
  const readySet = new Set<string>();
  const delayed = new Map<string, { due: number; timer: TimerHandle }>();
  const processing = new Set<string>();
  /** Keys added while running, and the earliest time each was asked for. */
  const pendingAfterRun = new Map<string, number>();
  const failures = new Map<string, number>();
  /** Retry-After holds: the key runs no earlier than this. */
  const notBefore = new Map<string, number>();
  let stopped = false;
  let lastDepth = -1;
  let idle: (() => void) | undefined;

  const reportDepth = () => {
    if (ready.length !== lastDepth) {
      lastDepth = ready.length;
      options.onDepth?.(lastDepth);
    }
  };

  const schedule = (key: string, requestedDue: number) => {
    if (stopped) return;
    const now = clock.now();
    const due = Math.max(requestedDue, notBefore.get(key) ?? 0);
    if (processing.has(key)) {
      const pending = pendingAfterRun.get(key);
      if (pending === undefined || due < pending) pendingAfterRun.set(key, due);
      return;
    }
    if (readySet.has(key)) return;
    const waiting = delayed.get(key);
    if (waiting && waiting.due <= due) return;
    if (waiting) {
      clock.clearTimeout(waiting.timer);
      delayed.delete(key);
    }
    if (due <= now) {
      ready.push(key);
      readySet.add(key);
      reportDepth();
      pump();
      return;
    }
    const timer = clock.setTimeout(() => {
      if (delayed.get(key)?.timer !== timer) return;
      delayed.delete(key);
      schedule(key, clock.now());
    }, due - now);
    delayed.set(key, { due, timer });
  };

  const pump = () => {
    while (!stopped && processing.size < concurrency && ready.length > 0) {
      const key = ready.shift() as string;
      readySet.delete(key);
      processing.add(key);
      reportDepth();
      void run(key);
    }
  };

  const run = async (key: string) => {
    let next: number | undefined;
    try {
      const result = await Promise.resolve().then(() => options.process(key));
      failures.delete(key);
      notBefore.delete(key);
      const after = result ? result.requeueAfterMs : undefined;
      if (typeof after === "number" && Number.isFinite(after)) next = clock.now() + Math.max(0, after);
    } catch (error) {
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      let delay = Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)));
      const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
      if (typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
        delay = Math.max(delay, retryAfterMs);
        notBefore.set(key, clock.now() + retryAfterMs);
      }
      next = clock.now() + delay;
      try {
        options.onFailure?.(key, error, delay);
      } catch {
        // A broken logger must not break the queue.
      }
    } finally {
      processing.delete(key);
    }
    if (stopped) {
      pendingAfterRun.delete(key);
      if (processing.size === 0) idle?.();
      return;
    }
    const pending = pendingAfterRun.get(key);
    pendingAfterRun.delete(key);
    const due = Math.min(next ?? Number.POSITIVE_INFINITY, pending ?? Number.POSITIVE_INFINITY);
    if (due !== Number.POSITIVE_INFINITY) schedule(key, due);
    pump();
  };

  return {
    add: (key) => schedule(key, clock.now()),
    addAfter: (key, ms) => schedule(key, clock.now() + Math.max(0, ms)),
    depth: () => ready.length,
    running: () => processing.size,
    shutdown() {
      stopped = true;
      for (const { timer } of delayed.values()) clock.clearTimeout(timer);
      delayed.clear();
      ready.length = 0;
      readySet.clear();
      pendingAfterRun.clear();
      reportDepth();
      if (processing.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const previous = idle;
        idle = () => {
          previous?.();
          resolve();
        };
      });
    },
  };
}
