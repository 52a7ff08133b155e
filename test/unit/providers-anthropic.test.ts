// Anthropic model checks against the local stand-in: outcomes, the -latest aliases, and pagination.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAnthropicStandIn } from "../../local/providers/anthropic.ts";
import type { AnthropicBehaviour, StandIn } from "../../local/providers/index.ts";
import { checkModels, loadCatalogue, type ModelCheckOptions } from "../../operator/providers/index.ts";

const KEY = "sk-ant-test-valid-key";
let server: StandIn<AnthropicBehaviour>;
let options: ModelCheckOptions;

beforeAll(async () => {
  server = await startAnthropicStandIn();
  options = { catalogue: loadCatalogue(), baseUrls: { anthropic: `${server.url}/v1` }, timeoutMs: 2000 };
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({
    fault: undefined,
    keys: [KEY],
    pageSize: 20,
    models: ["claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-3-opus-20240229"],
  });
  server.clearRequests();
});

const check = (apiKey = KEY, expectedModels?: string[]) =>
  checkModels(
    { provider: "Anthropic", credentials: { apiKey }, ...(expectedModels ? { expectedModels } : {}) },
    options,
  );

describe("Anthropic model check", () => {
  it("valid key: a -latest alias is met by a dated snapshot of it; headers as documented", async () => {
    const result = await check();
    expect(result.outcome).toBe("Valid");
    expect(result.models).toEqual([
      { name: "claude-3-5-haiku-latest", available: true },
      { name: "claude-3-5-sonnet-latest", available: false, reason: "NotListed" },
      { name: "claude-3-7-sonnet-latest", available: true },
    ]);
    expect(server.requests[0]?.headers["x-api-key"]).toBe(KEY);
    expect(server.requests[0]?.headers["anthropic-version"]).toBe("2023-06-01");
  });

  it("only some models: the missing expected one is named", async () => {
    const result = await check(KEY, ["claude-3-7-sonnet-latest", "claude-3-5-sonnet-latest"]);
    expect(result.expectedMissing).toEqual(["claude-3-5-sonnet-latest"]);
  });

  it("follows has_more / after_id across pages", async () => {
    server.set({
      pageSize: 1,
      models: ["claude-3-opus-20240229", "claude-3-5-sonnet-20241022", "claude-3-7-sonnet-20250219"],
    });
    const result = await check();
    expect(result.models.find((m) => m.name === "claude-3-5-sonnet-latest")?.available).toBe(true);
    expect(result.models.find((m) => m.name === "claude-3-7-sonnet-latest")?.available).toBe(true);
    expect(server.count()).toBe(3);
    expect(server.requests.map((r) => r.query.get("after_id"))).toEqual([
      null,
      "claude-3-opus-20240229",
      "claude-3-5-sonnet-20241022",
    ]);
  });

  it.each([
    { name: "invalid key (401)", apiKey: "sk-ant-wrong-key-123456", outcome: "InvalidCredentials" },
    {
      name: "permission (403)",
      fault: { status: 403, body: { type: "error", error: { type: "permission_error", message: "no" } } },
      outcome: "InvalidCredentials",
    },
    {
      name: "rate limited",
      fault: { status: 429, retryAfterSeconds: 3 },
      outcome: "RateLimited",
      retryAfterMs: 3000,
    },
    { name: "overloaded (529)", fault: { status: 529 }, outcome: "Unavailable" },
    { name: "down (500)", fault: { status: 500 }, outcome: "Unavailable" },
  ])("$name → $outcome", async ({ apiKey, fault, outcome, retryAfterMs }) => {
    if (fault) server.set({ fault });
    const result = await check(apiKey);
    expect(result.outcome).toBe(outcome);
    expect(result.models).toEqual([]);
    if (retryAfterMs) expect(result.retryAfterMs).toBe(retryAfterMs);
  });
});
