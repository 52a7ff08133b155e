// The operator's fetch over a dispatcher's request(): for every exchange it makes, the caller sees what undici's
// fetch (redirect "manual") shows: status, headers, body, and failures shaped the same way.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatcherFetch } from "../../operator/dispatcher-fetch.ts";
import { answerTooLarge } from "../../operator/providers/egress.ts";

let server: Server;
let base: string;
const agent = new Agent({ maxResponseSize: 1024 });
const leanFetch = dispatcherFetch(agent);
const fullFetch = ((input: string, init?: RequestInit) =>
  undiciFetch(input, {
    ...(init as object),
    redirect: "manual",
    dispatcher: agent,
  } as never)) as typeof fetch;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    let received = "";
    request.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
    });
    request.on("end", () => {
      if (url.pathname === "/slow") return; // never answers
      if (url.pathname === "/large") return response.end("x".repeat(4096));
      if (url.pathname === "/redirect") {
        response.writeHead(302, { location: "/elsewhere" });
        return response.end();
      }
      const status = Number(url.searchParams.get("status") ?? 200);
      response.writeHead(status, {
        "content-type": "application/json",
        "set-cookie": ["a=1", "b=2"],
        "x-request-id": "r-1",
      });
      const echo = {
        method: request.method,
        query: url.search,
        received,
        auth: request.headers.authorization,
      };
      response.end([204, 304].includes(status) ? undefined : JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await agent.close();
});

async function seen(f: typeof fetch, url: string, init?: RequestInit) {
  const response = await f(url, init);
  return {
    status: response.status,
    ok: response.ok,
    location: response.headers.get("location"),
    cookies: response.headers.getSetCookie(),
    requestId: response.headers.get("x-request-id"),
    body: await response.text(),
  };
}

describe("dispatcherFetch", () => {
  it.each([200, 201, 204, 400, 401, 429, 503, 599, 600, 999])(
    "HTTP %i: the same status, headers and body as undici's fetch",
    async (status) => {
      const init = {
        method: "POST",
        headers: new Headers({ authorization: "Bearer t", "content-type": "application/json" }),
        body: '{"q":1}',
      };
      const lean = await seen(leanFetch, `${base}/echo?status=${status}`, init);
      expect(lean).toEqual(await seen(fullFetch, `${base}/echo?status=${status}`, init));
      expect(lean.status).toBe(status);
      if (status !== 204)
        expect(JSON.parse(lean.body)).toMatchObject({ method: "POST", received: '{"q":1}' });
    },
  );

  it("sends the query string and plain-object headers", async () => {
    const response = await leanFetch(`${base}/echo?a=1&b=2`, { headers: { Authorization: "Bearer k" } });
    expect(await response.json()).toMatchObject({ method: "GET", query: "?a=1&b=2", auth: "Bearer k" });
  });

  it("does not follow a redirect: the 302 and its location come back", async () => {
    const response = await leanFetch(`${base}/redirect`);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/elsewhere");
  });

  it("rejects with the signal's reason when the time runs out", async () => {
    const failure = await leanFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }).catch((e) => e);
    expect((failure as Error).name).toBe("TimeoutError");
  });

  it("rejects at once for a signal aborted before the call", async () => {
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await expect(leanFetch(`${base}/echo`, { signal: controller.signal })).rejects.toThrow("shutting down");
  });

  it("wraps a transport failure as fetch does: TypeError('fetch failed') with the socket error as cause", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failure = (await leanFetch(`http://127.0.0.1:${port}/`).catch((e) => e)) as TypeError;
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure.message).toBe("fetch failed");
    expect((failure.cause as { code?: string }).code).toBe("ECONNREFUSED");
  });

  it("an answer beyond the dispatcher's maxResponseSize fails as too large", async () => {
    const failure = await leanFetch(`${base}/large`).catch((e) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect(answerTooLarge(failure)).toBe(true);
  });
});
