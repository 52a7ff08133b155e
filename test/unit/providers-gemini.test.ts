// Gemini model checks against the local stand-in: outcomes, and pagination across several pages.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGeminiStandIn } from "../../local/providers/gemini.ts";
import type { GeminiBehaviour, StandIn } from "../../local/providers/index.ts";
import { checkModels, loadCatalogue, type ModelCheckOptions } from "../../operator/providers/index.ts";

const KEY = "AIza-test-valid-key-0123";
let server: StandIn<GeminiBehaviour>;
let options: ModelCheckOptions;

beforeAll(async () => {
  server = await startGeminiStandIn();
  options = { catalogue: loadCatalogue(), baseUrls: { gemini: `${server.url}/v1beta` }, timeoutMs: 2000 };
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({
    fault: undefined,
    keys: [KEY],
    pageSize: 50,
    invalidKey: "400",
    models: ["gemini-2.0-flash", "gemini-1.5-pro", "text-embedding-004"],
  });
  server.clearRequests();
});

const check = (apiKey = KEY) => checkModels({ provider: "Gemini", credentials: { apiKey } }, options);

describe("Gemini model check", () => {
  it("valid key: listed models (without the models/ prefix) meet the catalogue; the key goes in a header", async () => {
    const result = await check();
    expect(result.outcome).toBe("Valid");
    expect(result.models.filter((m) => m.available).map((m) => m.name)).toEqual([
      "gemini-2.0-flash",
      "gemini-1.5-pro",
    ]);
    expect(result.models.find((m) => m.name === "gemini-1.5-flash-8b")?.reason).toBe("NotListed");
    const request = server.requests[0];
    expect(request?.headers["x-goog-api-key"]).toBe(KEY);
    expect(request?.query.get("key")).toBeNull();
  });

  it("follows nextPageToken across at least three pages", async () => {
    const catalogue = loadCatalogue().providers.Gemini.models;
    server.set({ pageSize: 2, models: ["embedding-001", ...catalogue, "aqa", "gemma-3-27b-it"] });
    const result = await check();
    expect(result.outcome).toBe("Valid");
    expect(result.models.every((m) => m.available)).toBe(true);
    expect(server.count("/v1beta/models")).toBeGreaterThanOrEqual(3);
    const tokens = server.requests.map((r) => r.query.get("pageToken"));
    expect(tokens[0]).toBeNull();
    expect(tokens.slice(1).every((t) => typeof t === "string" && t.length > 0)).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it.each([
    { name: "bad key (400 API_KEY_INVALID)", invalidKey: "400" as const, outcome: "InvalidCredentials" },
    { name: "bad key (403 PERMISSION_DENIED)", invalidKey: "403" as const, outcome: "InvalidCredentials" },
  ])("$name → $outcome", async ({ invalidKey, outcome }) => {
    server.set({ invalidKey });
    const result = await check("AIza-some-other-key-9876");
    expect(result.outcome).toBe(outcome);
  });

  it.each([
    {
      name: "rate limited",
      fault: { status: 429, retryAfterSeconds: 5 },
      outcome: "RateLimited",
      retryAfterMs: 5000,
    },
    { name: "down (503)", fault: { status: 503 }, outcome: "Unavailable" },
    {
      name: "another 400",
      fault: {
        status: 400,
        body: { error: { code: 400, message: "Bad pageSize", status: "INVALID_ARGUMENT" } },
      },
      outcome: "Unavailable",
    },
    {
      name: "an answer that is not a model list",
      fault: { status: 200, body: "<html>captive portal</html>" },
      outcome: "Unavailable",
    },
  ])("$name → $outcome", async ({ fault, outcome, retryAfterMs }) => {
    server.set({ fault });
    const result = await check();
    expect(result.outcome).toBe(outcome);
    if (retryAfterMs) expect(result.retryAfterMs).toBe(retryAfterMs);
  });

  it("a failure on a later page fails the check (no partial list is reported)", async () => {
    server.set({ pageSize: 1, fault: { status: 500, match: "/v1beta/models", skip: 1, times: 1 } });
    const result = await check();
    expect(result.outcome).toBe("Unavailable");
    expect(result.models).toEqual([]);
    expect(server.count()).toBe(2);
  });
});
