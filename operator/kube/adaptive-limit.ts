// How many requests the operator keeps in flight to the API server: its configured bound while the server
// keeps up, less while the server answers 429. A server that throttles (max-requests-inflight, or priority and
// fairness with full queues) then sees our requests one after another instead of the same collisions again,
// each costing the throttled request a Retry-After.

/**
 * A concurrency limit that halves on a 429 and doubles back after a quiet second (AIMD-like, as TCP does with
 * its window, but doubling up: a burst of 429s should not cost minutes at a low limit).
 *
 * Guarantees: the limit stays within 1..max; a burst of 429s answered to requests sent under the same limit
 * halves it once, not once per answer (they all met the same full server); it rises only on an answer that
 * comes `raiseAfterMs` or more after the last change and the last 429, so a server with room for one request
 * is probed with two about once a `raiseAfterMs`, not after every answer.
 */
export class AdaptiveLimit {
  #limit: number;
  #window = 0;
  /** When the limit last changed or a 429 came, whichever is later. */
  #quietSince: number;

  constructor(
    readonly max: number,
    readonly onChange: (limit: number) => void = () => undefined,
    readonly raiseAfterMs = 1000,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#limit = Math.max(1, max);
    this.#quietSince = now();
  }

  /** Requests allowed in flight now. */
  get value(): number {
    return this.#limit;
  }

  /** The window a request starts in; hand it back with its answer. */
  get window(): number {
    return this.#window;
  }

  /** A request started in `window` was answered 429. */
  throttled(window: number): void {
    this.#quietSince = this.now();
    if (window === this.#window && this.#limit > 1) this.#set(Math.max(1, Math.floor(this.#limit / 2)));
  }

  /** A request was answered (anything but 429). */
  answered(): void {
    if (this.#limit >= this.max || this.now() - this.#quietSince < this.raiseAfterMs) return;
    this.#set(Math.min(this.max, this.#limit * 2));
  }

  #set(limit: number): void {
    this.#limit = limit;
    this.#window++;
    this.#quietSince = this.now();
    this.onChange(limit);
  }
}
