// Runs the Pulumi work of each account's stack in the background, one job per stack at a time, so a long
// update never holds a reconcile; remembers what each stack reached and retries failures with backoff.
import { type Clock, isTerminal, redactText, type TimerHandle } from "./ports.ts";

/** What a stack is, seen from a target: reached, being worked on, or failed. */
export type EnsureState =
  | { kind: "Done" }
  | { kind: "Running" }
  | { kind: "Failed"; message: string; terminal: boolean };

interface Failure {
  key: string;
  message: string;
  terminal: boolean;
  attempts: number;
  retryAt: number;
}

/** Backoff of failed updates. */
export interface RetryBackoff {
  /** @default 30000 */
  baseMs: number;
  /** @default 600000 */
  maxMs: number;
}

export interface StackRunnerOptions {
  clock: Clock;
  /** Called when a job of `stack` ends, and when a failed target may be retried: enqueue its connections. */
  onSettled(stack: string): void;
  backoff?: RetryBackoff;
}

/**
 * One background job per stack.
 *
 * Guarantees: at most one job of a stack runs at a time, and `ensure`/`exclusive` never wait for one; a
 * target already reached is not worked on again (until {@link forget}); a failed target is retried only after
 * its backoff (a terminal failure only when the target changes), and `onSettled` says when; failure messages
 * pass through the log redactor.
 * Assumptions: one process (the leader) drives the stacks; the provisioner serializes the engine itself too.
 * Caveats: what was reached is kept in memory, so after a restart every stack is updated once again.
 */
export class StackRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly reached = new Map<string, string>();
  private readonly failures = new Map<string, Failure>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly backoff: RetryBackoff;
  private stopped = false;

  constructor(private readonly options: StackRunnerOptions) {
    this.backoff = options.backoff ?? { baseMs: 30_000, maxMs: 600_000 };
  }

  /** The target `stack` last reached, if any in this process. */
  reachedKey(stack: string): string | undefined {
    return this.reached.get(stack);
  }

  /** Whether a job of `stack` runs now. */
  isRunning(stack: string): boolean {
    return this.running.has(stack);
  }

  /**
   * Brings `stack` to the target `key` with `work`: Done when it is there, Running when a job runs (this one,
   * just started, or another that `onSettled` will report), Failed while a failed attempt at `key` backs off.
   */
  ensure(stack: string, key: string, work: () => Promise<void>): EnsureState {
    if (this.reached.get(stack) === key) return { kind: "Done" };
    if (this.running.has(stack)) return { kind: "Running" };
    const failure = this.failures.get(stack);
    if (failure?.key === key && (failure.terminal || this.options.clock.now() < failure.retryAt)) {
      return { kind: "Failed", message: failure.message, terminal: failure.terminal };
    }
    if (this.stopped) return { kind: "Running" };
    this.start(stack, async () => {
      try {
        await work();
        this.reached.set(stack, key);
        this.failures.delete(stack);
      } catch (error) {
        this.fail(stack, key, error);
      }
    });
    return { kind: "Running" };
  }

  /** Runs `work` when no job of `stack` runs; false when one does. `work` handles its own errors. */
  exclusive(stack: string, work: () => Promise<void>): boolean {
    if (this.running.has(stack) || this.stopped) return false;
    this.start(stack, work);
    return true;
  }

  /**
   * Lets the next `ensure` retry a failed target of `stack` at once, its backoff cut short: something it failed
   * on (a credentials or passphrase Secret) has changed. A terminal failure still waits for a new target.
   */
  retryNow(stack: string): void {
    const failure = this.failures.get(stack);
    if (failure && !failure.terminal) failure.retryAt = this.options.clock.now();
  }

  /** Forgets what `stack` reached, so the next `ensure` works again (e.g. after keys changed outside). */
  forget(stack: string): void {
    this.reached.delete(stack);
  }

  /** Stops starting jobs and retry timers; resolves when the running jobs have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) this.options.clock.clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private start(stack: string, work: () => Promise<void>): void {
    const job = (async () => {
      try {
        await work();
      } finally {
        this.running.delete(stack);
        if (!this.stopped) this.options.onSettled(stack);
      }
    })();
    this.running.set(stack, job);
  }

  private fail(stack: string, key: string, error: unknown): void {
    const previous = this.failures.get(stack);
    const attempts = previous?.key === key ? previous.attempts + 1 : 1;
    const terminal = isTerminal(error);
    const delay = this.backoffMs(attempts);
    const raw = error instanceof Error ? error.message : String(error);
    this.failures.set(stack, {
      key,
      message: redactText(raw),
      terminal,
      attempts,
      retryAt: this.options.clock.now() + delay,
    });
    if (!terminal) this.wakeAfter(stack, delay);
  }

  /** Calls `onSettled(stack)` after `delayMs` (one pending wake-up per stack; a new one replaces it). */
  wakeAfter(stack: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(stack);
    if (existing !== undefined) this.options.clock.clearTimeout(existing);
    this.timers.set(
      stack,
      this.options.clock.setTimeout(() => {
        this.timers.delete(stack);
        if (!this.stopped) this.options.onSettled(stack);
      }, delayMs),
    );
  }

  /** The delay after the `attempts`-th failure in a row. */
  backoffMs(attempts: number): number {
    return Math.min(this.backoff.baseMs * 2 ** (attempts - 1), this.backoff.maxMs);
  }
}
