// One HTTP call to a provider with a time limit and the caller's cancellation, and the mapping of its
// failure (status, Retry-After, transport error) onto a ModelCheck outcome.
import { APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { scrubMessage as scrub } from "../scrub.ts";
import { answerTooLarge, egressDenial, MAX_PROVIDER_ANSWER_BYTES } from "./egress.ts";
import type { ModelCheck, ModelCheckOutcome, ProviderContext } from "./types.ts";

const MiB = 1024 * 1024;

/** A provider's answer: status, headers and the body parsed as JSON when it is JSON (else the text). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The combined signal of one call: the caller's abort and this call's timeout. */
export function callSignal(ctx: Pick<ProviderContext, "signal" | "timeoutMs">): AbortSignal {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  return ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
}

/** Throws the caller's abort reason when the caller aborted: a shutdown is not a provider answer. */
export function rethrowIfCallerAborted(ctx: Pick<ProviderContext, "signal">): void {
  if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error("aborted");
}

/**
 * Sends one request and reads the whole answer. Resolves for every HTTP status; rejects only for
 * transport failures (refused, reset, timeout, abort), which `failureFromError` classifies.
 */
export async function send(
  ctx: ProviderContext,
  url: string,
  init: RequestInit & { fetch?: typeof fetch } = {},
): Promise<HttpAnswer> {
  const { fetch: fetchImpl = ctx.egress.fetch, ...rest } = init;
  const response = await fetchImpl(url, { ...rest, signal: callSignal(ctx), redirect: "manual" });
  return { status: response.status, headers: response.headers, body: parsedOrText(await response.text()) };
}

/** An answer's body as JSON when it parses, else the text (a caller's zod schema rejects what it must). */
export function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Milliseconds the provider asked us to wait: `retry-after-ms`, `retry-after` seconds or an HTTP date. */
export function retryAfterMs(headers: Headers | undefined, now: () => number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

/** The message and code inside the usual error bodies: {error:{message,code|type|status}}, {message,code}. */
export function errorDetails(body: unknown): { code?: string; message?: string } {
  if (typeof body === "string") return { message: body };
  if (typeof body !== "object" || body === null) return {};
  const outer = body as Record<string, unknown>;
  const inner =
    typeof outer.error === "object" && outer.error !== null
      ? (outer.error as Record<string, unknown>)
      : outer;
  const message =
    typeof inner.message === "string"
      ? inner.message
      : typeof outer.message === "string"
        ? outer.message
        : undefined;
  const code = errorCode(inner.code) ?? errorCode(inner.type) ?? errorCode(inner.status);
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/** A ModelCheck that is not Valid: no models, the given outcome and message. */
export function failed(outcome: ModelCheckOutcome, message: string, retryAfter?: number): ModelCheck {
  return {
    outcome,
    message,
    models: [],
    expectedMissing: [],
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
}

/**
 * Maps an HTTP failure onto an outcome: 401/403 InvalidCredentials (no retry storm), 429 RateLimited,
 * anything else Unavailable. Provider text goes through `scrub`; auth failures keep only the error code,
 * since their text is where providers echo key fragments.
 */
export function failureFromStatus(
  ctx: ProviderContext,
  providerName: string,
  answer: Pick<HttpAnswer, "status" | "body"> & { headers?: Headers | undefined },
): ModelCheck {
  const { code, message } = errorDetails(answer.body);
  const codeText = code ? ` (${code})` : "";
  const said = message ? `: ${scrub(message, ctx.secrets)}` : "";
  const wait = retryAfterMs(answer.headers, ctx.now);
  if (answer.status === 401 || answer.status === 403) {
    return failed(
      "InvalidCredentials",
      `${providerName} rejected the credential: HTTP ${answer.status}${codeText}`,
    );
  }
  if (answer.status === 429) {
    const quota = code === "insufficient_quota" ? "; the account's quota is exhausted" : "";
    return failed("RateLimited", `${providerName} is rate limiting: HTTP 429${codeText}${quota}`, wait);
  }
  if (answer.status >= 300 && answer.status < 400) {
    return failed(
      "Unavailable",
      `${providerName} answered a redirect (HTTP ${answer.status}); use the final URL`,
    );
  }
  return failed("Unavailable", `${providerName} answered HTTP ${answer.status}${codeText}${said}`, wait);
}

/** Maps a transport failure (refused, reset, DNS, timeout) onto Unavailable; rethrows the caller's abort. */
export function failureFromError(ctx: ProviderContext, providerName: string, error: unknown): ModelCheck {
  rethrowIfCallerAborted(ctx);
  const denied = egressDenial(error);
  if (denied) return failed("EgressDenied", `the egress guard refused a connection: ${denied.message}`);
  if (answerTooLarge(error))
    return failed("Unavailable", `${providerName} answered more than ${MAX_PROVIDER_ANSWER_BYTES / MiB} MiB`);
  if (error instanceof APIError && error.status !== undefined) {
    return failureFromStatus(ctx, providerName, {
      status: error.status,
      headers: error.headers,
      body: error.error,
    });
  }
  const timedOut =
    error instanceof APIConnectionTimeoutError ||
    error instanceof APIUserAbortError ||
    (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"));
  if (timedOut) return failed("Unavailable", `${providerName} did not answer within ${ctx.timeoutMs}ms`);
  return failed("Unavailable", `${providerName} is unreachable: ${scrub(describeError(error), ctx.secrets)}`);
}

/** A transport error's most telling message, following `cause` (fetch wraps the socket error). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    parts.push(typeof code === "string" ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return parts.length > 0 ? parts.join(": ") : String(error);
}

/** A provider's short error code (e.g. "invalid_api_key", "DeploymentNotFound"), or undefined if it is not one. */
export function errorCode(value: unknown): string | undefined {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : undefined;
}
