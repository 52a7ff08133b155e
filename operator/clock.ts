// Time as a dependency: the queue and the leader elector read the clock and set timers only through this,
// so tests drive them with a fake clock instead of sleeping.

/** A handle returned by {@link Clock.setTimeout}; opaque to callers. */
export type TimerHandle = unknown;

/** The wall clock and timers, injectable. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock. Timers are unref'd so a pending retry never keeps the process alive on its own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `promise`'s value, or `fallback()`'s once `ms` passed on `clock` without it (the timer is cleared either way). */
export async function within<T>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  fallback: () => T,
): Promise<T> {
  let handle: TimerHandle | undefined;
  const late = new Promise<T>((resolve) => {
    handle = clock.setTimeout(() => resolve(fallback()), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clock.clearTimeout(handle);
  }
}
