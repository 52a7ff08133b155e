// Serialises work per Pulumi stack: one update of a stack at a time, in call order, while different stacks
// run side by side. The backend's own stack lock would refuse a second concurrent update instead of waiting.

/**
 * A FIFO queue per key.
 *
 * Guarantees: tasks of one key run one at a time, in the order `run` was called; a task's failure is
 * returned to its caller only and never stops the tasks queued behind it; tasks of different keys do not
 * wait for each other.
 * Assumptions: one process drives a stack (the operator's leader); other processes are kept out by the
 * backend's lock, which then fails their update rather than queueing it.
 */
export class StackQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly depth = new Map<string, number>();

  /** Runs `task` after every earlier task of `key` has settled; resolves or rejects with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    this.depth.set(key, (this.depth.get(key) ?? 0) + 1);
    const result = previous.then(
      () => task(),
      () => task(),
    );
    const settled: Promise<void> = result.then(
      () => this.release(key, settled),
      () => this.release(key, settled),
    );
    this.tails.set(key, settled);
    return result;
  }

  /** Tasks of `key` queued or running. */
  pending(key: string): number {
    return this.depth.get(key) ?? 0;
  }

  private release(key: string, settled: Promise<unknown>): void {
    const left = (this.depth.get(key) ?? 1) - 1;
    if (left === 0) this.depth.delete(key);
    else this.depth.set(key, left);
    if (this.tails.get(key) === settled) this.tails.delete(key);
  }
}
