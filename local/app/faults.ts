// The contract server's traffic for tests: each request as it was seen, and the faults injected into the next
// matching requests (latency, 5xx, 429, dropped connections).

/** One request as the server saw it; authorization values are replaced by their scheme. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body (connection secrets included: tests assert on them); a refresh token is redacted. */
  body: unknown;
  userId?: number;
  /** The fault injected into this request, if any. */
  fault?: Fault["kind"];
  /** The status answered; absent while in flight or when the connection was dropped. */
  status?: number;
}

/** Which requests a fault hits: all, or those with this method and/or a path starting with this prefix. */
export interface FaultMatch {
  method?: string;
  path?: string;
}

/** A fault to inject into the next `times` (default 1) matching requests. */
export type Fault = {
  match?: FaultMatch;
  times?: number;
} /** Waits `ms` before handling: the request still takes effect, even when the client has given up. */ & (
  | { kind: "latency"; ms: number }
  | { kind: "status"; status: 500 | 502 | 503 | 504 }
  | { kind: "rateLimit"; retryAfterSeconds: number }
  /** Destroys the socket without an answer; with afterHandling the request takes effect first. */
  | { kind: "drop"; afterHandling?: boolean }
);

/** Pending faults, each used up by the requests it matches, first injected first. */
export class Faults {
  private pending: Array<Fault & { remaining: number }> = [];

  /** Injects a fault into the next `times` (default 1) matching requests. */
  inject(fault: Fault): void {
    this.pending.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Removes every pending fault. */
  clear(): void {
    this.pending = [];
  }

  /** Takes one use of the first fault matching this request. */
  take(method: string, path: string): Fault | undefined {
    const fault = this.pending.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.match?.method === undefined || candidate.match.method.toUpperCase() === method) &&
        (candidate.match?.path === undefined || path.startsWith(candidate.match.path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.pending = this.pending.filter((candidate) => candidate.remaining > 0);
    return fault;
  }
}
