// OpenAI model checks against the local stand-in: one row per outcome, plus time limits and cancellation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OpenAIBehaviour, StandIn } from "../../local/providers/index.ts";
import { startOpenAIStandIn } from "../../local/providers/openai.ts";
import { checkModels, loadCatalogue, type ModelCheckOptions } from "../../operator/providers/index.ts";

const KEY = "sk-test-valid-key";
let server: StandIn<OpenAIBehaviour>;
let options: ModelCheckOptions;

beforeAll(async () => {
  server = await startOpenAIStandIn();
  options = { catalogue: loadCatalogue(), baseUrls: { openai: `${server.url}/v1` }, timeoutMs: 2000 };
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({
    fault: undefined,
    delayMs: 0,
    keys: [KEY],
    models: ["gpt-4o", "gpt-4o-mini", "o1", "whisper-1"],
  });
  server.clearRequests();
});

const check = (apiKey = KEY, expectedModels?: string[]) =>
  checkModels(
    { provider: "OpenAI", credentials: { apiKey }, ...(expectedModels ? { expectedModels } : {}) },
    options,
  );

describe("OpenAI model check", () => {
  it("valid key: the catalogue's models marked by what the key lists", async () => {
    const result = await check();
    expect(result.outcome).toBe("Valid");
    const available = result.models.filter((m) => m.available).map((m) => m.name);
    expect(available).toEqual(["gpt-4o", "gpt-4o-mini", "o1"]);
    expect(result.models.find((m) => m.name === "gpt-5")).toEqual({
      name: "gpt-5",
      available: false,
      reason: "NotListed",
    });
    // models outside the catalogue (whisper-1) are not reported
    expect(result.models.map((m) => m.name)).not.toContain("whisper-1");
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("only some models: expected models that are missing are named, unsupported ones say so", async () => {
    const result = await check(KEY, ["gpt-4o", "gpt-4.1", "whisper-1"]);
    expect(result.outcome).toBe("Valid");
    expect(result.expectedMissing).toEqual(["gpt-4.1", "whisper-1"]);
    expect(result.models.find((m) => m.name === "whisper-1")).toEqual({
      name: "whisper-1",
      available: false,
      reason: "NotSupportedByApp",
    });
  });

  it.each([
    {
      name: "invalid key (401)",
      setup: () => {},
      apiKey: "sk-wrong-key-0123456789",
      outcome: "InvalidCredentials",
    },
    {
      name: "forbidden (403)",
      setup: () => server.set({ fault: { status: 403 } }),
      outcome: "InvalidCredentials",
    },
    {
      name: "rate limited (429, retry-after seconds)",
      setup: () => server.set({ fault: { status: 429, retryAfterSeconds: 12 } }),
      outcome: "RateLimited",
      retryAfterMs: 12_000,
    },
    {
      name: "rate limited (429, retry-after-ms)",
      setup: () => server.set({ fault: { status: 429, headers: { "retry-after-ms": "1500" } } }),
      outcome: "RateLimited",
      retryAfterMs: 1500,
    },
    { name: "down (500)", setup: () => server.set({ fault: { status: 500 } }), outcome: "Unavailable" },
    {
      name: "down (503 with retry-after)",
      setup: () => server.set({ fault: { status: 503, retryAfterSeconds: 30 } }),
      outcome: "Unavailable",
      retryAfterMs: 30_000,
    },
    {
      name: "connection dropped",
      setup: () => server.set({ fault: { drop: true } }),
      outcome: "Unavailable",
    },
  ])("$name → $outcome", async ({ setup, apiKey, outcome, retryAfterMs }) => {
    setup();
    const result = await check(apiKey);
    expect(result.outcome).toBe(outcome);
    expect(result.models).toEqual([]);
    if (retryAfterMs !== undefined) expect(result.retryAfterMs).toBe(retryAfterMs);
    // never retried here: the reconciler owns backoff
    expect(server.count("/v1/models")).toBe(1);
  });

  it("quota exhausted (429 insufficient_quota) is rate limited and says why", async () => {
    server.set({
      fault: {
        status: 429,
        body: { error: { message: "You exceeded your current quota", code: "insufficient_quota" } },
      },
    });
    const result = await check();
    expect(result.outcome).toBe("RateLimited");
    expect(result.message).toMatch(/quota/);
  });

  it("connection refused → Unavailable", async () => {
    const gone = await startOpenAIStandIn();
    await gone.stop();
    const result = await checkModels(
      { provider: "OpenAI", credentials: { apiKey: KEY } },
      { ...options, baseUrls: { openai: `${gone.url}/v1` } },
    );
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/unreachable/);
  });

  it("a slow answer hits the time limit → Unavailable", async () => {
    server.set({ delayMs: 4000 });
    const started = Date.now();
    const result = await checkModels(
      { provider: "OpenAI", credentials: { apiKey: KEY } },
      { ...options, timeoutMs: 200 },
    );
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/within 200ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("the caller's abort rejects with its reason", async () => {
    server.set({ delayMs: 1500 });
    const controller = new AbortController();
    const pending = checkModels(
      { provider: "OpenAI", credentials: { apiKey: KEY } },
      { ...options, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("shutting down")), 50);
    await expect(pending).rejects.toThrow("shutting down");
  });

  it("no key → InvalidCredentials without a request", async () => {
    const result = await checkModels({ provider: "OpenAI", credentials: {} }, options);
    expect(result.outcome).toBe("InvalidCredentials");
    expect(server.count()).toBe(0);
  });
});
