// One HTTP exchange with the app, made safe: a per-attempt timeout, retries with backoff and jitter on 5xx,
// 429 (Retry-After honoured) and network failures, a metrics sample per attempt, and every failure as AppError.
import { getCACertificates, rootCertificates } from "node:tls";
import { Agent, fetch } from "undici";
import type { z } from "zod";
import { type ConnectionGuard, egressDenial } from "../providers/egress.ts";
import { AppError, type AppErrorInit, type AppErrorKind, kindOfStatus, redact } from "./errors.ts";
import { AppErrorBody } from "./schemas.ts";

/** One attempt's measurement: method, route template, status ("network"/"timeout" without one), seconds. */
export interface AppRequestSample {
  method: string;
  route: string;
  status: string;
  seconds: number;
}

/** What the client logs through: a pino logger fits. */
export interface AppClientLogger {
  debug(entry: object, message?: string): void;
  warn(entry: object, message?: string): void;
}

export interface TransportOptions {
  baseUrl: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
  timeoutMs: number;
  retries: number;
  /** Longest Retry-After waited for in place; a longer one fails fast as RateLimited with retryAfterMs. */
  maxRetryAfterMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  metrics?: (sample: AppRequestSample) => void;
  logger?: AppClientLogger;
  /** Keeps every connection inside the egress guard (checked addresses only); absent: no guard. */
  egress?: ConnectionGuard;
}

/**
 * "idempotent": safe to repeat after any failure. "unsafe" (creating a record): repeated only when the app
 * cannot have acted on it (429, or the connection was never established), so a lost answer can't duplicate.
 */
export type RetryPolicy = "idempotent" | "unsafe";

export interface Exchange<T> {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  route: string;
  body?: unknown;
  /** The Authorization header for an attempt (asked per attempt, so a renewed token is used on retry). */
  authorization?: () => Promise<string>;
  /** Validates a 2xx JSON answer; absent for 204 answers. */
  answer?: z.ZodType<T>;
  policy: RetryPolicy;
  /** Values to redact from any message (the request's secrets and tokens). */
  secrets: readonly string[];
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 4000;
/** Connection errors that mean the request never reached the app. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** TLS verification failures: repeating cannot help. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/;

interface Failure {
  error: AppError;
  retryable: boolean;
}

function trustedCertificates(caPem: string | undefined): string[] | undefined {
  if (!caPem) return undefined;
  // Passing `ca` replaces Node's default trust, so add the bundle to it (system store included when Node
  // runs with --use-system-ca).
  const defaults =
    typeof getCACertificates === "function" ? getCACertificates("default") : [...rootCertificates];
  return [...defaults, caPem];
}

/** The HTTP side of the app client. */
export class Transport {
  private readonly agent: Agent;

  constructor(private readonly options: TransportOptions) {
    const ca = trustedCertificates(options.caPem);
    this.agent = new Agent({
      connect: {
        ...(ca ? { ca } : {}),
        rejectUnauthorized: !options.insecureSkipVerify,
        // The hook: each connection resolves once, through the guard, and goes to an address it checked.
        ...(options.egress ? { lookup: options.egress.lookup } : {}),
      },
    });
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.agent.close();
  }

  /** Runs the exchange with retries; resolves with the validated answer or rejects with an AppError. */
  async send<T>(exchange: Exchange<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(exchange);
      if (outcome.ok) return outcome.value;
      const { error, retryable } = outcome.failure;
      if (!retryable || attempt >= this.options.retries) throw error;
      const delayMs = this.delayFor(error, attempt);
      if (delayMs === undefined) throw error;
      this.options.logger?.warn({
        event: "app.request.retrying",
        method: exchange.method,
        route: exchange.route,
        kind: error.kind,
        status: error.status,
        attempt: attempt + 1,
        delayMs,
      });
      await this.options.sleep(delayMs);
    }
  }

  private delayFor(error: AppError, attempt: number): number | undefined {
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs <= this.options.maxRetryAfterMs ? error.retryAfterMs : undefined;
    }
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    return Math.round(ceiling * (0.5 + this.options.random() * 0.5));
  }

  private async attempt<T>(
    exchange: Exchange<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; failure: Failure }> {
    const { method, route } = exchange;
    // Durations come from the monotonic clock: they measure, they decide nothing.
    const started = performance.now();
    const sample = (status: string) =>
      this.options.metrics?.({ method, route, status, seconds: (performance.now() - started) / 1000 });
    const fail = (kind: AppErrorKind, extra: Partial<AppErrorInit> = {}) =>
      new AppError({ ...extra, kind, method, route });

    const headers: Record<string, string> = { accept: "application/json" };
    const secrets = [...exchange.secrets];
    if (exchange.authorization) {
      headers.authorization = await exchange.authorization();
      secrets.push(headers.authorization.replace(/^\S+\s+/, ""));
    }
    if (exchange.body !== undefined) headers["content-type"] = "application/json";

    const url = new URL(exchange.path, this.options.baseUrl);
    const refused = this.options.egress?.refusal(url);
    if (refused !== undefined) {
      return { ok: false, failure: { error: fail("EgressDenied", { detail: refused }), retryable: false } };
    }

    let status: number;
    let text: string;
    let retryAfter: string | null;
    let location: string | null;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body: exchange.body === undefined ? undefined : JSON.stringify(exchange.body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        dispatcher: this.agent,
        redirect: "manual",
      });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      location = response.headers.get("location");
      text = await response.text();
    } catch (caught) {
      if ((caught as Error)?.name === "TimeoutError") {
        sample("timeout");
        const detail = `no answer within ${this.options.timeoutMs} ms`;
        return {
          ok: false,
          failure: { error: fail("Timeout", { detail }), retryable: exchange.policy === "idempotent" },
        };
      }
      const denied = egressDenial(caught);
      if (denied) {
        sample("egress_denied");
        return {
          ok: false,
          failure: { error: fail("EgressDenied", { detail: denied.message }), retryable: false },
        };
      }
      sample("network");
      const cause = (caught as { cause?: { code?: string; message?: string } }).cause;
      const code = cause?.code ?? "";
      const detail = redact(
        [code, cause?.message ?? (caught as Error)?.message].filter(Boolean).join(": "),
        secrets,
      );
      const retryable =
        !TLS_FAILURE.test(code) && (exchange.policy === "idempotent" || NOT_SENT_CODES.has(code));
      return { ok: false, failure: { error: fail("Network", { detail }), retryable } };
    }
    sample(String(status));

    if (status >= 200 && status < 300) {
      if (!exchange.answer) return { ok: true, value: undefined as T };
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return {
          ok: false,
          failure: { error: fail("UnexpectedResponse", { status, detail: "not JSON" }), retryable: false },
        };
      }
      const parsed = exchange.answer.safeParse(json);
      if (!parsed.success) {
        // Paths only: values could be anything the app sent.
        const paths = [
          ...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)")),
        ].slice(0, 5);
        const detail = `answer does not match the documented shape at ${paths.join(", ")}`;
        return {
          ok: false,
          failure: { error: fail("UnexpectedResponse", { status, detail }), retryable: false },
        };
      }
      return { ok: true, value: parsed.data };
    }

    const kind = kindOfStatus(status);
    // A redirect means a wrong base URL (http → https, a login page, a missing slash): say where it points.
    const said =
      status >= 300 && status < 400
        ? { detail: redact(`redirected to ${location ?? "(no location)"}`, secrets) }
        : this.errorBody(text, secrets);
    const retryAfterMs = status === 429 || status === 503 ? this.retryAfterMs(retryAfter) : undefined;
    const error = fail(kind, { status, ...said, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    const retryable =
      status === 429 || (exchange.policy === "idempotent" && (status >= 500 || status === 408));
    return { ok: false, failure: { error, retryable } };
  }

  /** DRF's error body: {detail} (a message for the whole request) or field → messages. */
  private errorBody(text: string, secrets: readonly string[]): Pick<AppErrorInit, "detail" | "fieldErrors"> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return {};
    }
    const parsed = AppErrorBody.safeParse(json);
    if (!parsed.success) return {};
    const body = parsed.data as Record<string, unknown>;
    if (typeof body.detail === "string") return { detail: redact(body.detail, secrets) };
    const fieldErrors: Record<string, string[]> = {};
    for (const [field, messages] of Object.entries(body)) {
      const list = (Array.isArray(messages) ? messages : [messages]).filter(
        (m): m is string => typeof m === "string",
      );
      if (list.length > 0) fieldErrors[field] = list.map((message) => redact(message, secrets));
    }
    return Object.keys(fieldErrors).length > 0 ? { fieldErrors } : {};
  }

  private retryAfterMs(header: string | null): number | undefined {
    if (header === null) return undefined;
    const seconds = Number(header.trim());
    if (header.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - this.options.now());
  }
}
