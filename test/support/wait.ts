// Polling with a deadline: how tests wait for the cluster or the operator to reach a state, instead of
// sleeping for a fixed time.

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long. @default 30000 */
  timeoutMs?: number;
  /** Pause between attempts. @default 200 */
  intervalMs?: number;
  /** What is awaited, for the timeout message. @default "condition" */
  description?: string;
}

/**
 * Calls `probe` until it returns a value other than `undefined`, `null` or `false`, and returns that value.
 * A throwing probe counts as "not yet"; on timeout the error names the description and the last value or
 * error seen.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: string = "no attempt finished";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
      last = `last value: ${String(value)}`;
    } catch (error) {
      last = `last error: ${(error as Error).message}`;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${options.description ?? "condition"} (${last})`,
  );
}
