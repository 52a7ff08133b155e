// fetch's contract over an undici dispatcher's request(), for the JSON exchanges the operator makes (the app, the
// providers through the SDKs): undici's fetch costs about three times request()'s CPU per exchange (WHATWG
// streams, the fetch algorithm's steps), which the scale benchmark found to be a tenth of the operator's CPU.
import { type Dispatcher, fetch as undiciFetch } from "undici";

/** Statuses a Response carries no body with. */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** The text each answer was built from, for a reader that wants it without consuming the body. */
const texts = new WeakMap<Response, string>();

/**
 * The whole text of an answer that `dispatcherFetch` made (its body left unread for the caller), or undefined for
 * any other Response: a wrapper reads it instead of reading the body and building a second Response.
 */
export function answerText(response: Response): string | undefined {
  return texts.get(response);
}

/**
 * A fetch whose requests go through `dispatcher` and are never redirected (as `redirect: "manual"`).
 *
 * Guarantees: what fetch would answer for the same exchange: the status (also one outside 200..599, which the
 * Response constructor refuses), status text and headers; a transport failure as `TypeError("fetch failed")` with
 * the cause (so the SDKs and `egressDenial`/`answerTooLarge` read it as they read fetch's); an aborted signal's
 * reason as the rejection (a TimeoutError for `AbortSignal.timeout`).
 * Differences: the answer is read whole before the promise resolves (bounded by the dispatcher's
 * maxResponseSize), so a failure while reading it rejects the fetch rather than the body read; no
 * `accept-encoding` is sent, so answers come uncompressed. Anything this does not handle (a Request object, a
 * streamed or form body, credentials in the URL) goes to undici's fetch on the same dispatcher.
 */
export function dispatcherFetch(dispatcher: Dispatcher): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init: RequestInit = {}) => {
    const { body } = init;
    const url = input instanceof Request ? undefined : input instanceof URL ? input : URL.parse(input);
    const plainBody =
      body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array;
    if (!url || !plainBody || url.username || url.password) {
      return undiciFetch(input as never, { ...(init as object), redirect: "manual", dispatcher } as never);
    }
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    try {
      const answer = await dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: (init.method ?? "GET").toUpperCase() as Dispatcher.HttpMethod,
        headers: plainHeaders(init.headers),
        body: body ?? undefined,
        ...(signal ? { signal } : {}),
      });
      const text = await answer.body.text();
      return response(answer, text);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new TypeError("fetch failed", { cause: error });
    }
  }) as typeof fetch;
}

function plainHeaders(headers: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries = headers instanceof Headers || Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of entries as Iterable<[string, string]>) {
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

function response(answer: Dispatcher.ResponseData, text: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const one of value) headers.append(name, one);
    else if (value !== undefined) headers.append(name, value);
  }
  const status = answer.statusCode;
  const statusText = answer.statusText ?? "";
  const bodyless = NULL_BODY_STATUSES.has(status);
  let made: Response;
  if (status >= 200 && status <= 599) {
    made = new Response(bodyless ? null : text, { status, statusText, headers });
  } else {
    // fetch hands on any status a server sends (600..999 too); the constructor takes 200..599 only.
    made = new Response(text, { status: 200, statusText, headers });
    Object.defineProperties(made, { status: { value: status }, ok: { value: false } });
  }
  texts.set(made, bodyless ? "" : text);
  return made;
}
