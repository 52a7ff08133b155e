// The model checks' capturing fetch: the check reads each answer's body, and the SDK still reads the same body,
// whatever the status (null-body statuses and the 600-999 a hostile server may send included).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatcherFetch } from "../../operator/dispatcher-fetch.ts";
import { capturingFetch } from "../../operator/providers/deployment-probe.ts";

const BODY = '{"error":{"message":"the model is loading","code":"model_loading"}}';
let server: Server;
let base: string;

beforeAll(async () => {
  // Answers the status named by the path, with BODY unless the status carries no body.
  server = createServer((request, response) => {
    const status = Number(request.url?.slice(1));
    response.writeHead(status, { "content-type": "application/json", "x-request-id": "r-1" });
    response.end([204, 304].includes(status) ? undefined : BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
const agent = new Agent();
afterAll(async () => {
  await agent.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// Over undici's fetch (a stream to read and rebuild) and over the pinned pools' dispatcherFetch (text known).
const bases: [string, typeof fetch][] = [
  ["undici's fetch", undiciFetch as unknown as typeof fetch],
  ["dispatcherFetch", dispatcherFetch(agent)],
];

describe.each(bases)("capturingFetch over %s", (_name, baseFetch) => {
  const fetchThrough = (status: number) => {
    const capture = capturingFetch(baseFetch);
    return { capture, answer: capture.fetch(`${base}/${status}`, { redirect: "manual" }) };
  };

  it.each([200, 302, 400, 404, 503, 599, 600, 999])(
    "HTTP %i: the check and the caller both read the whole body, with the status and headers",
    async (status) => {
      const { capture, answer } = fetchThrough(status);
      const response = await answer;
      expect(response.status).toBe(status);
      expect(response.headers.get("x-request-id")).toBe("r-1");
      expect(await response.text()).toBe(BODY);
      expect(capture.bodyOf(`/${status}`)).toEqual(JSON.parse(BODY));
      expect(capture.lastBody()).toEqual(JSON.parse(BODY));
    },
  );

  it("HTTP 204: an empty body for both, not an error", async () => {
    const { capture, answer } = fetchThrough(204);
    const response = await answer;
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(capture.bodyOf("/204")).toBe("");
  });

  it("a body that is not JSON is kept as text", async () => {
    const capture = capturingFetch(
      (async () => new Response("<html>bad gateway</html>", { status: 502 })) as unknown as typeof fetch,
    );
    const response = await capture.fetch(`${base}/anything`);
    expect(await response.text()).toBe("<html>bad gateway</html>");
    expect(capture.bodyOf("/anything")).toBe("<html>bad gateway</html>");
  });
});
