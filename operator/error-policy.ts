// The one place that decides what a failed reconcile means: retry it with backoff (transient), or record a
// condition and wait for a change (terminal). controller-runtime's reconcile.TerminalError, kube-rs's error_policy.
import { AppError } from "./app/errors.ts";
import { REASON, type Reason } from "./constants.ts";

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
 * {@link AppError} maps by kind (401 InvalidToken, 403 InsufficientRole, 400/404/3xx AppRejected wait; 429, 5xx,
 * network and timeout AppUnreachable retry); anything else retries as `Reconciling`.
 * Assumptions: messages of the errors it reads are already redacted (AppError and TerminalError promise it).
 */
export function errorPolicy(error: unknown): ErrorVerdict {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof TerminalError) return { action: "wait", reason: error.reason, message };
  if (error instanceof AppError) return appErrorVerdict(error);
  return { action: "retry", reason: REASON.Reconciling, message: `reconcile failed: ${message}` };
}

/** Whether retrying `error` cannot help (a shorthand for `errorPolicy(error).action === "wait"`). */
export function isTerminal(error: unknown): boolean {
  return errorPolicy(error).action === "wait";
}

function appErrorVerdict(error: AppError): ErrorVerdict {
  const { message } = error;
  switch (error.kind) {
    case "Unauthorized":
      return {
        action: "wait",
        reason: REASON.InvalidToken,
        message: `the app rejected the token: ${message}`,
      };
    case "Forbidden":
      return {
        action: "wait",
        reason: REASON.InsufficientRole,
        message: `the token's user may not manage connections (an owner or administrator is needed): ${message}`,
      };
    case "Invalid":
      return {
        action: "wait",
        reason: REASON.AppRejected,
        message: `the app rejected the connection: ${message}`,
      };
    case "NotFound":
      return { action: "wait", reason: REASON.AppRejected, message };
    case "RateLimited":
    case "Unavailable":
    case "Network":
    case "Timeout":
      return {
        action: "retry",
        reason: REASON.AppUnreachable,
        message: `the app is unreachable: ${message}`,
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      };
    case "UnexpectedResponse":
      return { action: "retry", reason: REASON.Reconciling, message: `reconcile failed: ${message}` };
  }
}
