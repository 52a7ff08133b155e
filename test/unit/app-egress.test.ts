// The app client behind the egress guard: an Organization URL at a metadata address, in any spelling or behind
// a name, is never sent a request (so the token never leaves), and fails as a terminal EgressDenied.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, createAppClient } from "../../operator/app/index.ts";
import { isTerminal } from "../../operator/error-policy.ts";
import { createEgressGuard, type ResolvedAddress } from "../../operator/providers/egress.ts";

const TOKEN = "canary-app-egress-token-5c1f";

describe("app client egress", () => {
  const seen: IncomingMessage[] = [];
  let server: ReturnType<typeof createServer>;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: 1, email: "o@x.test", username: "owner", active_organization: 1 }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const names: Record<string, ResolvedAddress[]> = {
    "app.test": [{ address: "127.0.0.1", family: 4 }],
    "imds.test": [{ address: "169.254.169.254", family: 4 }],
    "mapped.test": [{ address: "::ffff:a9fe:a9fe", family: 6 }],
  };
  const guard = createEgressGuard({
    resolve: async (hostname) => {
      const found = names[hostname];
      if (!found) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
      return found;
    },
  });
  const client = (url: string) =>
    createAppClient({ url, token: TOKEN, timeoutMs: 2000, egress: guard.connections() });

  it.each([
    "http://169.254.169.254/",
    "http://2852039166/",
    "http://[::ffff:169.254.169.254]/",
    "http://imds.test:PORT/",
    "http://mapped.test:PORT/",
  ])("%s is refused before any request", async (template) => {
    const before = seen.length;
    const app = client(template.replace("PORT", String(port)));
    try {
      const error = await app.whoami().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).kind).toBe("EgressDenied");
      expect(isTerminal(error)).toBe(true);
      expect((error as AppError).message).toMatch(/cloud metadata/);
      expect((error as AppError).message).not.toContain(TOKEN);
      expect(seen.length).toBe(before);
    } finally {
      await app.close();
    }
  });

  it("an allowed name is reached", async () => {
    const app = client(`http://app.test:${port}/`);
    try {
      expect((await app.whoami()).id).toBe(1);
    } finally {
      await app.close();
    }
  });
});
