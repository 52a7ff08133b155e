// The circuit breaker between an Organization's connections and its app: while the app is down, one probe per
// interval stands in for a request per connection, and the app's return wakes every connection that waited.
import { AppError } from "../app/errors.ts";
import type { Clock, TimerHandle } from "../clock.ts";

/** What a request to the app showed: the app answered (whatever it said), or it is down. */
export type AppOutcome = "answered" | "down";

export interface AppBreakerOptions {
  /** The Organization, as namespace/name, for messages. */
  organization: string;
  clock: Clock;
  /** How often the app is asked, once, while it is down. */
  probeIntervalMs: number;
  /** Consecutive failures (unreachable, 5xx, timeout) that open the breaker. @default 3 */
  failuresToOpen?: number;
  /** Asks the app once (a cheap read such as whoami). */
  probe(): Promise<AppOutcome>;
  /** The app answered again after the breaker opened: wake what waited. */
  onClose(): void;
}

/** Whether requests to one Organization's app may go. */
export interface AppBreaker {
  /** Why no request may go now (the breaker is open), or undefined when one may. */
  refusal(): string | undefined;
  /** Records what a request that went showed. */
  record(outcome: AppOutcome): void;
  /** Open while the app is down. */
  isOpen(): boolean;
  /** Stops probing (the Organization is gone or its client replaced). */
  stop(): void;
}

/**
 * Creates the breaker of one Organization's app.
 *
 * Guarantees:
 * - Closed, every request goes; `failuresToOpen` down outcomes in a row (with no answer between) open it.
 * - Open, no request goes: `refusal()` says why, naming the Organization and since when. One probe runs per
 *   `probeIntervalMs` (never two at once); the first probe or request that gets an answer closes it and calls
 *   `onClose` once per opening.
 * - After `stop()` no probe runs and `onClose` is never called.
 * Assumptions: callers record only outcomes of requests that reached the network: a refused address or a request
 * never sent is neither an answer nor an outage. Any HTTP answer, an error status below 500 too, is an answer.
 * Caveats: a probe reads one route (whoami); an app that answers it but fails the connection routes with 5xx
 * (or one record that always gets a 500) opens the breaker again after `failuresToOpen` more failures, and each
 * closing wakes all of the organization's connections: a cycle per probe interval, not a storm. Outcomes are
 * counted per Organization, not per route.
 */
export function createAppBreaker(options: AppBreakerOptions): AppBreaker {
  const { clock, probeIntervalMs } = options;
  const failuresToOpen = Math.max(1, options.failuresToOpen ?? 3);
  let failures = 0;
  let openedAt: number | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const close = () => {
    failures = 0;
    if (openedAt === undefined) return;
    openedAt = undefined;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    if (!stopped) options.onClose();
  };
  const scheduleProbe = () => {
    if (stopped || openedAt === undefined) return;
    timer = clock.setTimeout(async () => {
      timer = undefined;
      if (stopped || openedAt === undefined) return;
      const outcome = await options.probe().catch((): AppOutcome => "down");
      if (outcome === "answered") close();
      else scheduleProbe();
    }, probeIntervalMs);
  };

  return {
    refusal() {
      if (openedAt === undefined) return undefined;
      return `the app of Organization ${options.organization} has not answered since ${new Date(openedAt).toISOString()}; it is probed every ${probeIntervalMs / 1000}s and this request was not sent`;
    },
    record(outcome) {
      if (outcome === "answered") return close();
      if (openedAt !== undefined) return;
      failures += 1;
      if (failures >= failuresToOpen) {
        openedAt = clock.now();
        scheduleProbe();
      }
    },
    isOpen: () => openedAt !== undefined,
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** What an app client's error says of the app: down (unreachable, 5xx, timeout), answered, or nothing (not sent). */
export function outcomeOfError(error: unknown): AppOutcome | undefined {
  if (!(error instanceof AppError)) return undefined;
  if (error.kind === "EgressDenied") return undefined;
  return error.kind === "Network" || error.kind === "Timeout" || error.kind === "Unavailable"
    ? "down"
    : "answered";
}

/**
 * Runs one request to the app through `breaker`: refused while it is open (an AppError of kind Network that
 * names the Organization; nothing is sent), its outcome recorded otherwise.
 */
export async function throughBreaker<T>(
  breaker: AppBreaker,
  request: { method: string; route: string },
  send: () => Promise<T>,
): Promise<T> {
  const refusal = breaker.refusal();
  if (refusal !== undefined) throw new AppError({ kind: "Network", ...request, detail: refusal });
  try {
    const answer = await send();
    breaker.record("answered");
    return answer;
  } catch (error) {
    const outcome = outcomeOfError(error);
    if (outcome !== undefined) breaker.record(outcome);
    throw error;
  }
}
