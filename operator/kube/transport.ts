// How the operator reaches the API server: one keep-alive connection pool per client (not a new TLS handshake
// per request), a client-side rate limit, and 429 Retry-After honoured.
import { type Dispatcher, interceptors } from "undici";
import { AdaptiveLimit } from "./adaptive-limit.ts";
import type { KubeClient } from "./client.ts";
import type { RenewalPriority } from "./renewal-priority.ts";

/** How requests to the API server are paced and counted. */
export interface ApiServerTransportOptions {
  /** Requests per second on average (a token bucket's refill rate); 0 turns pacing off. */
  qps: number;
  /** Requests allowed at once above the average (the bucket's size). */
  burst: number;
  /**
   * Requests at most in flight at once (waiting for their answer), watches apart; the others wait their turn.
   * While the API server answers 429 the bound is lower (halved per burst of 429s, doubled back after a quiet
   * second; see AdaptiveLimit). 0 or undefined: no bound.
   */
  maxInFlight?: number;
  /** Called when the in-flight bound moves (for a gauge). */
  onInFlightLimit?: (limit: number) => void;
  /** With `maxInFlight`: no request starts while a Lease renewal runs (see RenewalPriority). */
  renewalPriority?: RenewalPriority;
  /** How often one request is repeated after a 429 before its answer is handed back. @default 5 */
  maxThrottledRetries?: number;
  /** Called for every new TCP connection to the API server (for metrics and the socket test). */
  onConnect?: () => void;
  /** Called when the API server answers 429 (before the request is repeated). */
  onThrottled?: () => void;
}

const paced = new WeakSet<KubeClient>();
const ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST", "PATCH"] as const;

/**
 * A client (same identity) whose every request (reads, writes, lists, watches) goes through one pooled dispatcher.
 *
 * Guarantees: connections are kept alive and reused (a handful of sockets for any number of calls; each open
 * watch holds one). Requests start no faster than `qps` on average with bursts of `burst`, so the operator is not
 * what makes the API server throttle; and with `maxInFlight`, a server that throttles anyway (its own in-flight
 * limits are lower than ours) gets fewer requests at once, not the same collisions again. A 429 is repeated
 * after the server's Retry-After (1s without one, doubling, at most 30s) up to `maxThrottledRetries` times, for
 * every verb: a 429 means the request was not processed.
 * Assumptions: the kubeconfig's TLS material (CA, client certificate) does not change for the process's life;
 * bearer tokens do (they travel per request in headers).
 * Caveats: aborting a request that waits for a rate-limit slot takes effect when it is sent.
 */
export function apiServerTransport(kc: KubeClient, options: ApiServerTransportOptions): KubeClient {
  if (paced.has(kc)) return kc;
  const bucket = options.qps > 0 ? new TokenBucket(options.qps, Math.max(1, options.burst)) : undefined;
  const client = kc.withDispatcher((base) => {
    const retry = repeatThrottled({
      maxRetries: options.maxThrottledRetries ?? 5,
      minTimeout: 1000,
      maxTimeout: 30_000,
      retryAfter: true,
      onThrottled: options.onThrottled,
    });
    const pace: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
      const waitMs = bucket?.take() ?? 0;
      if (waitMs <= 0) return dispatch(opts, handler);
      setTimeout(() => dispatch(opts, handler), waitMs);
      return true;
    };
    if (options.onConnect) base.on("connect", () => options.onConnect?.());
    // Inside out: each attempt waits for its own rate-limit slot, then for room in flight; the retry repeats
    // attempts (a throttled request holds no room while it waits); bodies are buffered first so that a repeated
    // write can send its body again.
    const bounded = options.maxInFlight
      ? inFlightLimit(
          new AdaptiveLimit(options.maxInFlight, options.onInFlightLimit),
          options.renewalPriority,
        )
      : undefined;
    return base.compose([bounded, pace, retry, replayableBody].filter((i) => i !== undefined));
  });
  paced.add(client);
  return client;
}

/**
 * A client with connections of its own, unpaced, for traffic that must not queue behind the rest: the
 * leader's Lease renewals (a renewal stuck behind a throttled list would cost the leadership).
 */
export function dedicatedConnections(kc: KubeClient, onConnect?: () => void): KubeClient {
  return kc.withDispatcher((base) => {
    if (onConnect) base.on("connect", () => onConnect());
    // A 429 here is mostly a moment's full server (the shared pool holds back while a renewal runs, see
    // RenewalPriority): repeated soon, not after a Retry-After that would spend the renew deadline.
    const retry = repeatThrottled({ maxRetries: 8, minTimeout: 50, maxTimeout: 800, retryAfter: false });
    return base.compose([retry, replayableBody]);
  });
}

/**
 * Repeats a request answered 429 up to `maxRetries` times, after the server's Retry-After when `retryAfter`
 * (capped at `maxTimeout`), else after `minTimeout` doubling; the last 429 is handed back as an answer (an
 * ApiException the caller backs off on), not as a network error.
 */
function repeatThrottled(options: {
  maxRetries: number;
  minTimeout: number;
  maxTimeout: number;
  retryAfter: boolean;
  onThrottled?: () => void;
}): Dispatcher.DispatcherComposeInterceptor {
  return interceptors.retry({
    statusCodes: [429],
    errorCodes: [],
    methods: [...ALL_METHODS],
    maxRetries: options.maxRetries,
    minTimeout: options.minTimeout,
    maxTimeout: options.maxTimeout,
    timeoutFactor: 2,
    retryAfter: options.retryAfter,
    throwOnError: false,
    retry: (err, context, callback) => {
      if ((err as { statusCode?: number }).statusCode === 429) options.onThrottled?.();
      return defaultRetry(err, context, callback);
    },
  });
}

/** A watch holds its request open for minutes: it never counts against the in-flight bound. */
const isWatch = (path: string | undefined) => /[?&]watch=(true|1)(&|$)/.test(path ?? "");

/**
 * At most `limit.value` requests waiting for their answers at once (the API server's own protection,
 * max-requests-inflight and priority and fairness, counts concurrency too); the others start in arrival order as
 * answers finish. Each answer tells the limit whether the server throttled (429) or kept up.
 */
export function inFlightLimit(
  limit: AdaptiveLimit,
  priority?: RenewalPriority,
): Dispatcher.DispatcherComposeInterceptor {
  let running = 0;
  const waiting: (() => void)[] = [];
  let resumeAfterRenewal = false;
  const held = () => priority !== undefined && !priority.clear;
  const startWaiting = () => {
    if (held()) {
      if (!resumeAfterRenewal) {
        resumeAfterRenewal = true;
        priority?.whenClear(() => {
          resumeAfterRenewal = false;
          startWaiting();
        });
      }
      return;
    }
    while (running < limit.value && waiting.length > 0) waiting.shift()?.();
  };
  return (dispatch) => (opts, handler) => {
    if (isWatch(opts.path)) return dispatch(opts, handler);
    const start = (): boolean => {
      running++;
      const window = limit.window;
      let released = false;
      // The next request starts after this answer's callback has returned, never inside it: undici calls
      // onResponseError for every request queued on a connection that failed to connect, then asserts that its
      // queue is empty, and a request dispatched from one of those calls would land in that queue (an uncaught
      // AssertionError, seen under a throttling API server).
      const release = () => {
        if (released) return;
        released = true;
        running--;
        queueMicrotask(startWaiting);
      };
      const h = handler as Dispatcher.DispatchHandler;
      try {
        return dispatch(opts, {
          onRequestStart: (controller, context) => h.onRequestStart?.(controller, context),
          onRequestUpgrade: (controller, status, headers, socket) =>
            h.onRequestUpgrade?.(controller, status, headers, socket),
          onResponseStart: (controller, status, headers, message) => {
            if (status === 429) {
              limit.throttled(window);
              // The retry holds a 429's answer unread until it repeats the request (Retry-After later); the
              // server is done with it, so its place goes to the next request now.
              release();
            } else {
              limit.answered();
            }
            h.onResponseStart?.(controller, status, headers, message);
          },
          onResponseData: (controller, chunk) => h.onResponseData?.(controller, chunk),
          onResponseEnd: (controller, trailers) => {
            release();
            h.onResponseEnd?.(controller, trailers);
          },
          onResponseError: (controller, error) => {
            release();
            h.onResponseError?.(controller, error);
          },
        });
      } catch (error) {
        release();
        throw error;
      }
    };
    if (running < limit.value && waiting.length === 0 && !held()) return start();
    // Started later, from another request's answer: a failure to start is this request's error, not that one's.
    waiting.push(() => {
      try {
        start();
      } catch (error) {
        handler.onResponseError?.(null as never, error as Error);
      }
    });
    if (running === 0) startWaiting(); // nothing in flight to start it: a renewal's end will
    return true;
  };
}

/**
 * fetch hands request bodies to the dispatcher as a one-shot stream; the API server's bodies are small JSON, so
 * read them into a buffer that a repeated attempt can send again.
 */
const replayableBody: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const body = opts.body as unknown;
  const streamed =
    body !== null &&
    typeof body === "object" &&
    !(body instanceof Uint8Array) &&
    typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
  if (!streamed) return dispatch(opts, handler);
  (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  })().then(
    (buffer) => dispatch({ ...opts, body: buffer }, handler),
    (error: Error) => handler.onResponseError?.(null as never, error),
  );
  return true;
};

type RetryFn = NonNullable<Parameters<typeof interceptors.retry>[0]>["retry"];
const defaultRetry: NonNullable<RetryFn> = (err, { state, opts }, callback) => {
  const retryOptions = opts.retryOptions ?? {};
  const { statusCode, headers } = err as { statusCode?: number; headers?: Record<string, string | string[]> };
  if (statusCode !== 429 || state.counter > (retryOptions.maxRetries ?? 5)) return void callback(err);
  const header = retryOptions.retryAfter === false ? undefined : headers?.["retry-after"];
  const seconds = header === undefined ? Number.NaN : Number(Array.isArray(header) ? header[0] : header);
  const backoff =
    (retryOptions.minTimeout ?? 1000) * (retryOptions.timeoutFactor ?? 2) ** (state.counter - 1);
  const delay = Math.min(
    Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : backoff,
    retryOptions.maxTimeout ?? 30_000,
  );
  return setTimeout(() => callback(null), delay) as unknown as undefined;
};

/** A token bucket: `take()` reserves a slot and says how long to wait for it (0 when one is free now). */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly size: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = size;
    this.#last = now();
  }

  take(): number {
    this.#refill();
    this.#tokens -= 1;
    // Negative tokens are slots reserved ahead: the wait until the bucket refills to zero.
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.ratePerSecond;
  }

  /** Takes a slot only if one is free now. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.size, this.#tokens + ((now - this.#last) * this.ratePerSecond) / 1000);
    this.#last = now;
  }
}
