// One HTTP exchange with the app, made safe: a timeout, a metrics sample, and every failure as an AppError
// (with the app's Retry-After). It never retries: a failed exchange fails the reconcile, and the work queue
// alone retries, with per-object backoff, so retries never multiply across layers.
import { getCACertificates, rootCertificates } from "node:tls";
import { Agent } from "undici";
import type { z } from "zod";
import { dispatcherFetch } from "../dispatcher-fetch.ts";
import { answerTooLarge, type ConnectionGuard, egressDenial } from "../providers/egress.ts";
import { AppError, type AppErrorInit, type AppErrorKind, kindOfStatus, redact } from "./errors.ts";
import { AppErrorBody } from "./schemas.ts";

/** One exchange's measurement: method, route template, status ("network"/"timeout" without one), seconds. */
export interface AppRequestSample {
  method: string;
  route: string;
  status: string;
  seconds: number;
}

export interface TransportOptions {
  baseUrl: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
  timeoutMs: number;
  /** Clock for Retry-After dates. */
  now: () => number;
  metrics?: (sample: AppRequestSample) => void;
  /** Keeps every connection inside the egress guard (checked addresses only); absent: no guard. */
  egress?: ConnectionGuard;
}

export interface Exchange<T> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  route: string;
  body?: unknown;
  /** The Authorization header (asked per exchange, so a renewed token is used). */
  authorization?: () => Promise<string>;
  /** This exchange's per-attempt timeout, when not the transport's (writes get longer). */
  timeoutMs?: number;
  /** Validates a 2xx JSON answer; absent for 204 answers. */
  answer?: z.ZodType<T>;
  /** Values to redact from any message (the request's secrets and tokens). */
  secrets: readonly string[];
}

function trustedCertificates(caPem: string | undefined): string[] | undefined {
  if (!caPem) return undefined;
  // Passing `ca` replaces Node's default trust, so add the bundle to it (system store included when Node
  // runs with --use-system-ca).
  const defaults =
    typeof getCACertificates === "function" ? getCACertificates("default") : [...rootCertificates];
  return [...defaults, caPem];
}

/**
 * The largest app answer read (16 MiB: an organization's listing of 10,000 connections is a few MiB). The URL is
 * an Organization's spec: a server there that streams without end must not exhaust the operator's memory.
 */
export const MAX_APP_ANSWER_BYTES = 16 * 1024 * 1024;

/** The HTTP side of the app client. */
export class Transport {
  private readonly agent: Agent;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TransportOptions) {
    const ca = trustedCertificates(options.caPem);
    this.agent = new Agent({
      connect: {
        ...(ca ? { ca } : {}),
        rejectUnauthorized: !options.insecureSkipVerify,
        // The hook: each connection resolves once, through the guard, and goes to an address it checked.
        ...(options.egress ? { lookup: options.egress.lookup } : {}),
      },
      maxResponseSize: MAX_APP_ANSWER_BYTES,
    });
    this.fetch = dispatcherFetch(this.agent);
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.agent.close();
  }

  /**
   * Makes the exchange once; resolves with the validated answer or rejects with an AppError.
   *
   * Guarantees: one request, never repeated here (a create the app may have acted on is healed by adoption
   * in the next reconcile, not by a blind repeat); a 429 or 503 carries the app's Retry-After as
   * `retryAfterMs`, which the work queue honours.
   */
  async send<T>(exchange: Exchange<T>): Promise<T> {
    const { method, route } = exchange;
    const timeoutMs = exchange.timeoutMs ?? this.options.timeoutMs;
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
      throw fail("EgressDenied", { detail: refused });
    }

    let status: number;
    let text: string;
    let retryAfter: string | null;
    let location: string | null;
    try {
      const response = await this.fetch(url, {
        method,
        headers,
        body: exchange.body === undefined ? undefined : JSON.stringify(exchange.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      location = response.headers.get("location");
      text = await response.text();
    } catch (caught) {
      if ((caught as Error)?.name === "TimeoutError") {
        sample("timeout");
        const detail = `no answer within ${timeoutMs} ms`;
        // An unanswered create may still be running in the app: whoever looks for it (adoption) should wait as
        // long again, so that a create the app is still working on has landed by then.
        throw fail("Timeout", { detail, ...(method === "POST" ? { retryAfterMs: timeoutMs } : {}) });
      }
      const denied = egressDenial(caught);
      if (denied) {
        sample("egress_denied");
        throw fail("EgressDenied", { detail: denied.message });
      }
      if (answerTooLarge(caught)) {
        sample("too_large");
        throw fail("UnexpectedResponse", {
          detail: `answer larger than ${MAX_APP_ANSWER_BYTES / 1024 / 1024} MiB`,
        });
      }
      sample("network");
      const cause = (caught as { cause?: { code?: string; message?: string } }).cause;
      const code = cause?.code ?? "";
      const detail = redact(
        [code, cause?.message ?? (caught as Error)?.message].filter(Boolean).join(": "),
        secrets,
      );
      throw fail("Network", { detail });
    }
    sample(String(status));

    if (status >= 200 && status < 300) {
      if (!exchange.answer) return undefined as T;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw fail("UnexpectedResponse", { status, detail: "not JSON" });
      }
      const parsed = exchange.answer.safeParse(json);
      if (!parsed.success) {
        // Paths only: values could be anything the app sent.
        const paths = [
          ...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(root)")),
        ].slice(0, 5);
        const detail = `answer does not match the documented shape at ${paths.join(", ")}`;
        throw fail("UnexpectedResponse", { status, detail });
      }
      return parsed.data;
    }

    const kind = kindOfStatus(status);
    // A redirect means a wrong base URL (http → https, a login page, a missing slash): say where it points.
    const said =
      status >= 300 && status < 400
        ? { detail: redact(`redirected to ${location ?? "(no location)"}`, secrets) }
        : this.errorBody(text, secrets);
    const retryAfterMs = status === 429 || status === 503 ? this.retryAfterMs(retryAfter) : undefined;
    throw fail(kind, { status, ...said, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
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
