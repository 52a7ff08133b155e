// Answers without end from a user's endpoint (a Custom server, an Organization URL): the operator stops reading at
// its bound and says so, instead of buffering until its memory runs out and every organization's work stops.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, createAppClient } from "../../operator/app/index.ts";
import { checkModels, createEgressGuard, loadCatalogue } from "../../operator/providers/index.ts";

const KEY = "oversized-test-key-0123456789";
const CHUNK = Buffer.alloc(1024 * 1024, " ");
let server: Server;
let url: string;

beforeAll(async () => {
  // Every answer is a JSON document that never ends: `{"data": [` and then spaces, a MiB at a time.
  server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.write('{"data": [');
    const more = () => {
      while (!response.destroyed && response.write(CHUNK)) {
        // fills the socket's buffer, then waits for the client to read
      }
    };
    response.on("drain", more);
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("an endpoint that answers without end", () => {
  it("a Custom check stops at 8 MiB and says so (Unavailable, retried with backoff)", async () => {
    const result = await checkModels(
      { provider: "Custom", credentials: { apiKey: KEY }, endpoint: `${url}/v1`, name: "m" },
      { catalogue: loadCatalogue(), timeoutMs: 20_000, egress: createEgressGuard({ allow: ["127.0.0.1"] }) },
    );
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/answered more than 8 MiB/);
    expect(result.message).not.toContain(KEY);
  });

  it("the app client stops at 16 MiB and says so, naming no token", async () => {
    const app = createAppClient({ url, token: KEY, timeoutMs: 20_000 });
    try {
      const error = await app.whoami().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).kind).toBe("UnexpectedResponse");
      expect((error as AppError).message).toMatch(/answer larger than 16 MiB/);
      expect((error as AppError).message).not.toContain(KEY);
    } finally {
      await app.close();
    }
  });
});
