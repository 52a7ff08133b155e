// The one place that decides what a failed reconcile means: retry it with backoff (transient), or record a
// condition and wait for a change (terminal). controller-runtime's reconcile.TerminalError, kube-rs's error_policy.
import { AppError, type AppErrorKind } from "./app/errors.ts";
import { REASON, type Reason } from "./constants.ts";
import { stableMessage } from "./reconcile/stable-message.ts";

/**
 * An error that retrying cannot fix: the object, or something it references (a Secret, the configuration),
 * must change first. Throw it with the condition reason users should see; the message must be free of secrets.
 */
export class TerminalError extends Error {
  override readonly name = "TerminalError";

  constructor(
    readonly reason: Reason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * What to do about an error, with the condition that says so (reason and a message free of secrets).
 * - `retry`: transient; the reconcile throws and the work queue retries it with per-object backoff and jitter,
 *   never sooner than `retryAfterMs` when the far side asked for a pause.
 * - `wait`: terminal; the condition stays until the object or what it references changes (or the resync).
 */
export type ErrorVerdict =
  | { action: "retry"; reason: Reason; message: string; retryAfterMs?: number }
  | { action: "wait"; reason: Reason; message: string };

/**
 * Decides what an error from a reconcile means.
 *
 * Guarantees: every value maps to a verdict (nothing throws); a {@link TerminalError} keeps its reason; an
 * {@link AppError} maps by kind (401 InvalidToken, 403 InsufficientRole, 400/404/3xx AppRejected and a refused address EgressDenied wait; 429, 5xx,
 * network and timeout AppUnreachable retry); anything else retries as `Reconciling`.
 * Assumptions: messages of the errors it reads are already redacted (AppError and TerminalError promise it).
 */
export function errorPolicy(error: unknown): ErrorVerdict {
  if (error instanceof TerminalError) return { action: "wait", reason: error.reason, message: error.message };
  if (error instanceof AppError) return appErrorVerdict(error);
  // Never the raw text of a Kubernetes API error: its headers would make every try's status differ.
  const message = stableMessage(error);
  return { action: "retry", reason: REASON.Reconciling, message: `reconcile failed: ${message}` };
}

/** Whether retrying `error` cannot help (a shorthand for `errorPolicy(error).action === "wait"`). */
export function isTerminal(error: unknown): boolean {
  return errorPolicy(error).action === "wait";
}

/** The app's failures by kind: what to do, the reason, and the words put before the app's own. */
const APP_ERROR_POLICY: Record<
  AppErrorKind,
  { action: ErrorVerdict["action"]; reason: Reason; says?: string }
> = {
  Unauthorized: { action: "wait", reason: REASON.InvalidToken, says: "the app rejected the token" },
  Forbidden: {
    action: "wait",
    reason: REASON.InsufficientRole,
    says: "the token's user may not manage connections (an owner or administrator is needed)",
  },
  Invalid: { action: "wait", reason: REASON.AppRejected, says: "the app rejected the connection" },
  NotFound: { action: "wait", reason: REASON.AppRejected },
  RateLimited: { action: "retry", reason: REASON.AppUnreachable, says: "the app is unreachable" },
  Unavailable: { action: "retry", reason: REASON.AppUnreachable, says: "the app is unreachable" },
  Network: { action: "retry", reason: REASON.AppUnreachable, says: "the app is unreachable" },
  Timeout: { action: "retry", reason: REASON.AppUnreachable, says: "the app is unreachable" },
  UnexpectedResponse: { action: "retry", reason: REASON.Reconciling, says: "reconcile failed" },
  EgressDenied: {
    action: "wait",
    reason: REASON.EgressDenied,
    says: "the Organization's spec.url is refused by the egress guard, no request was sent",
  },
};

function appErrorVerdict(error: AppError): ErrorVerdict {
  const { action, reason, says } = APP_ERROR_POLICY[error.kind];
  const message = says ? `${says}: ${error.message}` : error.message;
  if (action === "wait") return { action, reason, message };
  return {
    action,
    reason,
    message,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  };
}
