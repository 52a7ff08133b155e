// The leader's Lease renewal goes before the operator's other API server traffic. The renewal has connections of
// its own, but an API server that takes only a few of our requests at once (it answers 429 beyond) would have
// them all taken by our reconciles, which fill whatever room it has: the renewal would meet 429 after 429 until
// the renew deadline passes and the replica gives up its leadership. So while a renewal runs, the shared pool
// starts no new request; the few in flight finish in milliseconds and leave the room to the renewal.

/** Holds the shared pool back while a renewal runs. */
export class RenewalPriority {
  #holds = 0;
  #waiting: (() => void)[] = [];

  /**
   * @param maxHoldMs the longest one renewal holds the pool back: a renewal that hangs (a slow or unreachable API
   *   server) must not stall every reconcile with it; room lasting a moment is all a renewal needs.
   */
  constructor(readonly maxHoldMs = 1000) {}

  /** Whether the shared pool may start requests now. */
  get clear(): boolean {
    return this.#holds === 0;
  }

  /** Runs `renewal` with the shared pool held back until it settles, or for `maxHoldMs` at most. */
  async during<T>(renewal: () => Promise<T>): Promise<T> {
    this.#holds++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.#holds--;
      if (this.#holds === 0) for (const resume of this.#waiting.splice(0)) resume();
    };
    const timer = setTimeout(release, this.maxHoldMs);
    try {
      return await renewal();
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  /** Calls `resume` once no renewal holds the pool (now, when none does). */
  whenClear(resume: () => void): void {
    if (this.clear) resume();
    else this.#waiting.push(resume);
  }
}
