// The app client's one error type: every failure at the boundary becomes an AppError with a kind that the error
// policy (operator/error-policy.ts) maps to a condition. Messages carry the app's own words (redacted) and never
// a request body or header.
import { scrubText } from "../scrub.ts";

/** What went wrong, in the operator's words. */
export type AppErrorKind =
  /** 401: the token is unknown, revoked or expired. */
  | "Unauthorized"
  /** 403: the token's owner is not an owner or administrator of the organization. */
  | "Forbidden"
  /** 404: no such record in the token's organization. */
  | "NotFound"
  /** 400, other 4xx and redirects: the app refused the request; `detail` or `fieldErrors` says why. */
  | "Invalid"
  /** 429: too many requests; `retryAfterMs` says when to come back. */
  | "RateLimited"
  /** 5xx: the app (or a proxy in front of it) failed. */
  | "Unavailable"
  /** The connection failed: refused, reset, DNS, TLS. */
  | "Network"
  /** No answer within the client's timeout. */
  | "Timeout"
  /** A 2xx answer that does not match the documented shape. */
  | "UnexpectedResponse"
  /** The egress guard refused the app's address (cloud metadata, link-local): no request was sent. */
  | "EgressDenied";

export interface AppErrorInit {
  kind: AppErrorKind;
  method: string;
  /** The route template, e.g. /api/model-provider-connections/{id}/. */
  route: string;
  status?: number;
  detail?: string;
  fieldErrors?: Record<string, string[]>;
  retryAfterMs?: number;
}

/**
 * A failed call to the app.
 *
 * Guarantees: `message` holds the method, route template, status, and the app's detail or field messages with
 * any secret the request carried replaced by "[REDACTED]"; never a request body, header or token. Whether
 * retrying can help is the error policy's call (operator/error-policy.ts), by `kind`.
 */
export class AppError extends Error {
  override readonly name = "AppError";
  readonly kind: AppErrorKind;
  readonly method: string;
  readonly route: string;
  readonly status: number | undefined;
  /** The app's `detail`, when it gave one. */
  readonly detail: string | undefined;
  /** The app's field → messages of a validation failure. */
  readonly fieldErrors: Record<string, string[]> | undefined;
  /**
   * How long to wait before the next attempt: the app's 429 Retry-After, or, after a create that timed out (the
   * app may still be making the record), the timeout again.
   */
  readonly retryAfterMs: number | undefined;

  constructor(init: AppErrorInit) {
    super(describe(init));
    this.kind = init.kind;
    this.method = init.method;
    this.route = init.route;
    this.status = init.status;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors;
    this.retryAfterMs = init.retryAfterMs;
  }
}

function describe(init: AppErrorInit): string {
  const status = init.status === undefined ? "" : ` ${init.status}`;
  const fields = Object.entries(init.fieldErrors ?? {}).map(
    ([field, messages]) => `${field}: ${messages.join(" ")}`,
  );
  const said = [init.detail, ...fields].filter((part): part is string => Boolean(part)).join("; ");
  return `${init.method} ${init.route}:${status} ${init.kind}${said ? ` (${said})` : ""}`;
}

/** The kind a non-2xx HTTP status maps to (a 3xx is Invalid: the base URL is wrong). */
export function kindOfStatus(status: number): AppErrorKind {
  if (status === 401) return "Unauthorized";
  if (status === 403) return "Forbidden";
  if (status === 404) return "NotFound";
  if (status === 408) return "Timeout";
  if (status === 429) return "RateLimited";
  if (status >= 500) return "Unavailable";
  return "Invalid";
}

/** Removes each secret (whole, in pieces of 6+ characters, URL-encoded or base64) from `text` (the app's words). */
export function redact(text: string, secrets: readonly string[]): string {
  return scrubText(text, secrets);
}
