// Custom (OpenAI-format) checks: compatibility (GET /models) and JSON mode (response_format json_object)
// are reported separately; the endpoint passes the egress guard.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OpenAIBehaviour, StandIn } from "../../local/providers/index.ts";
import { startOpenAIStandIn } from "../../local/providers/openai.ts";
import {
  checkModels,
  createEgressGuard,
  ListingCache,
  loadCatalogue,
  type ModelCheckOptions,
  type ModelCheckRequest,
} from "../../operator/providers/index.ts";

const KEY = "custom-test-valid-key-0123";
let server: StandIn<OpenAIBehaviour>;
let options: ModelCheckOptions;

beforeAll(async () => {
  server = await startOpenAIStandIn();
  options = { catalogue: loadCatalogue(), timeoutMs: 2000 };
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({
    fault: undefined,
    keys: [KEY],
    models: ["llama3.1:8b"],
    jsonMode: "supported",
    noModelsEndpoint: false,
    open: false,
  });
  server.clearRequests();
});

const check = (extra: Partial<ModelCheckRequest> = {}, opts: Partial<ModelCheckOptions> = {}) =>
  checkModels(
    {
      provider: "Custom",
      credentials: { apiKey: KEY },
      endpoint: `${server.url}/v1`,
      name: "llama3.1:8b",
      ...extra,
    },
    { ...options, ...opts },
  );

describe("Custom endpoint check", () => {
  it("valid: OpenAI-compatible and JSON mode; Bearer auth; response_format json_object sent", async () => {
    const result = await check();
    expect(result).toMatchObject({
      outcome: "Valid",
      openAICompatible: true,
      jsonMode: true,
      models: [{ name: "llama3.1:8b", available: true }],
    });
    expect(server.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      "GET /v1/models",
      "POST /v1/chat/completions",
    ]);
    const chat = server.requests.find((r) => r.path === "/v1/chat/completions");
    expect(chat?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect((chat?.body as { response_format?: unknown } | undefined)?.response_format).toEqual({
      type: "json_object",
    });
  });

  it.each([
    { name: "content that is not JSON", jsonMode: "plain-text" as const, match: /does not parse as JSON/ },
    { name: "response_format refused (400)", jsonMode: "rejected" as const, match: /refused \(HTTP 400/ },
  ])(
    "JSON mode missing ($name) → JSONModeUnsupported, still OpenAI-compatible",
    async ({ jsonMode, match }) => {
      server.set({ jsonMode });
      const result = await check();
      expect(result.outcome).toBe("JSONModeUnsupported");
      expect(result.openAICompatible).toBe(true);
      expect(result.jsonMode).toBe(false);
      expect(result.message).toMatch(match);
    },
  );

  it("no /models endpoint → NotOpenAICompatible, JSON mode still reported", async () => {
    server.set({ noModelsEndpoint: true });
    const result = await check();
    expect(result.outcome).toBe("NotOpenAICompatible");
    expect(result.openAICompatible).toBe(false);
    expect(result.jsonMode).toBe(true);
  });

  it("an HTML page where the model list should be → NotOpenAICompatible", async () => {
    server.set({ fault: { status: 200, body: "<html>hello</html>", match: "/v1/models", times: 1 } });
    const result = await check();
    expect(result.outcome).toBe("NotOpenAICompatible");
  });

  it("an auth token is sent as Bearer when there is no API key", async () => {
    server.set({ keys: ["token-abc-123456"] });
    const result = await check({ credentials: { authToken: "token-abc-123456" } });
    expect(result.outcome).toBe("Valid");
    expect(server.requests[0]?.headers.authorization).toBe("Bearer token-abc-123456");
  });

  it("without credentials no Authorization header is sent", async () => {
    server.set({ open: true });
    const result = await check({ credentials: {} });
    expect(result.outcome).toBe("Valid");
    expect(server.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it("checks of one endpoint at once keep their own credentials and answers", async () => {
    // They share the pinned pool and its SDK client: each request must carry its own check's key, and each
    // check read only its own answers.
    const other = "custom-test-other-key-4567";
    const results = await Promise.all([
      check(),
      check({ credentials: { apiKey: "custom-test-wrong-key-999" } }),
      check({ credentials: { apiKey: other } }),
      check({ credentials: {} }),
      check(),
    ]);
    expect(results.map((r) => r.outcome)).toEqual([
      "Valid",
      "InvalidCredentials",
      "InvalidCredentials",
      "InvalidCredentials",
      "Valid",
    ]);
    server.set({ keys: [KEY, other] });
    const [mine, theirs] = await Promise.all([check(), check({ credentials: { apiKey: other } })]);
    expect([mine.outcome, theirs.outcome]).toEqual(["Valid", "Valid"]);
    const sent = server.requests.map((r) => r.headers.authorization);
    expect(sent.filter((a) => a === undefined)).toHaveLength(2); // the check without credentials
    expect(sent.filter((a) => a === `Bearer ${other}`)).toHaveLength(4);
  });

  it("a model the server does not know → DeploymentNotFound", async () => {
    const result = await check({ name: "mistral:7b", expectedModels: ["mistral:7b"] });
    expect(result.outcome).toBe("Valid");
    expect(result.models).toEqual([{ name: "mistral:7b", available: false, reason: "DeploymentNotFound" }]);
    expect(result.expectedMissing).toEqual(["mistral:7b"]);
  });

  it.each([
    {
      name: "invalid key",
      request: { credentials: { apiKey: "custom-wrong-key-9999" } },
      outcome: "InvalidCredentials",
    },
    { name: "rate limited", fault: { status: 429, retryAfterSeconds: 4 }, outcome: "RateLimited" },
    { name: "down (503)", fault: { status: 503 }, outcome: "Unavailable" },
    { name: "chat down after a good list", fault: { status: 500, match: "/chat/" }, outcome: "Unavailable" },
  ])("$name → $outcome", async ({ request, fault, outcome }) => {
    if (fault) server.set({ fault });
    const result = await check(request);
    expect(result.outcome).toBe(outcome);
    expect(result.openAICompatible === true && result.jsonMode === true).toBe(false);
  });

  it("connection refused → Unavailable", async () => {
    const gone = await startOpenAIStandIn();
    await gone.stop();
    const result = await check({ endpoint: `${gone.url}/v1` });
    expect(result.outcome).toBe("Unavailable");
  });

  it("an endpoint outside the egress allow list → EgressDenied, without a request", async () => {
    const egress = createEgressGuard({ allow: ["ollama.ml.svc", "10.0.0.0/8"] });
    const result = await check({}, { egress });
    expect(result.outcome).toBe("EgressDenied");
    expect(result.message).toMatch(/not in the egress allow list/);
    expect(server.count()).toBe(0);
  });

  it("an endpoint inside the allow list passes", async () => {
    const egress = createEgressGuard({ allow: ["127.0.0.0/8"] });
    expect((await check({}, { egress })).outcome).toBe("Valid");
  });

  it("a redirect is not followed (it could lead anywhere) → Unavailable", async () => {
    server.set({
      fault: { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" }, body: "" },
    });
    const result = await check();
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/redirect/);
    // The two requests of the check, and nothing sent where the redirects pointed.
    expect(server.requests.map((r) => r.path).sort()).toEqual(["/v1/chat/completions", "/v1/models"]);
  });

  it("DNS that does not answer in time → Unavailable, not a rejection", async () => {
    const egress = createEgressGuard({ resolve: () => new Promise(() => {}) });
    const result = await check({ endpoint: "http://slow-dns.test/v1" }, { egress, timeoutMs: 100 });
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/DNS/);
  });

  it("sends the model list and the JSON-mode request at once: a server that answers neither alone is Valid", async () => {
    // Holds GET /models until the JSON-mode request has arrived too: a check that waited for the list first
    // would never send it, and time out.
    const arrived = new Set<string>();
    const waiting: (() => void)[] = [];
    const both = createServer((request, response) => {
      arrived.add(request.url ?? "");
      const answer = () => {
        response.setHeader("content-type", "application/json");
        response.end(
          JSON.stringify(
            request.url?.endsWith("/models")
              ? { object: "list", data: [{ id: "llama3.1:8b", object: "model" }] }
              : { choices: [{ index: 0, message: { role: "assistant", content: '{"ok": true}' } }] },
          ),
        );
      };
      request.resume();
      request.on("end", () => {
        waiting.push(answer);
        if (arrived.size === 2) for (const go of waiting.splice(0)) go();
      });
    });
    await new Promise<void>((resolve) => both.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = both.address() as AddressInfo;
      const result = await check({ endpoint: `http://127.0.0.1:${port}/v1` }, { timeoutMs: 5000 });
      expect(result).toMatchObject({ outcome: "Valid", openAICompatible: true, jsonMode: true });
    } finally {
      both.closeAllConnections();
      await new Promise((resolve) => both.close(resolve));
    }
  });

  it("a slow server hits the time limit → Unavailable, and the pinned connection closes at once", async () => {
    server.set({ delayMs: 4000 });
    const started = Date.now();
    const result = await check({}, { timeoutMs: 200 });
    expect(result.outcome).toBe("Unavailable");
    expect(Date.now() - started).toBeLessThan(3000);
    server.set({ delayMs: 0 });
  });
});

describe("Custom checks sharing a recent model list", () => {
  const lists = () => server.requests.filter((r) => r.path === "/v1/models").length;
  const completions = () => server.requests.filter((r) => r.path === "/v1/chat/completions").length;

  it("a second model of the same server and key reuses the list and still checks its own JSON mode", async () => {
    server.set({ models: ["llama3.1:8b", "qwen2.5:7b"] });
    const listings = new ListingCache();
    const first = await check({}, { listings });
    server.set({ jsonMode: "rejected" });
    const second = await check({ name: "qwen2.5:7b" }, { listings });
    expect(first).toMatchObject({ outcome: "Valid", openAICompatible: true });
    expect(second).toMatchObject({ outcome: "JSONModeUnsupported", openAICompatible: true, jsonMode: false });
    expect(lists()).toBe(1);
    expect(completions()).toBe(2);
  });

  it("another key, or a list older than its age, asks the server again", async () => {
    let now = 0;
    const listings = new ListingCache(15_000, 1024, () => now);
    server.set({ keys: [KEY, "custom-test-other-key-4567"] });
    await check({}, { listings });
    await check({ credentials: { apiKey: "custom-test-other-key-4567" } }, { listings });
    now = 15_001;
    await check({}, { listings });
    expect(lists()).toBe(3);
  });

  it("a failed list is not kept: the next check lists again", async () => {
    const listings = new ListingCache();
    server.set({ noModelsEndpoint: true });
    expect((await check({}, { listings })).openAICompatible).toBe(false);
    server.set({ noModelsEndpoint: false });
    expect(await check({}, { listings })).toMatchObject({ outcome: "Valid", openAICompatible: true });
    expect(lists()).toBe(2);
  });

  it("keeps no credential: its keys are hashes, and at most maxEntries of them", () => {
    const listings = new ListingCache(15_000, 2);
    for (const key of ["sk-one-0123456789", "sk-two-0123456789", "sk-three-0123456789"])
      listings.set(ListingCache.key("http://h/v1", key), ["m"]);
    expect(listings.get(ListingCache.key("http://h/v1", "sk-one-0123456789"))).toBeUndefined();
    expect(listings.get(ListingCache.key("http://h/v1", "sk-three-0123456789"))).toEqual(["m"]);
    expect(ListingCache.key("http://h/v1", "sk-one-0123456789")).not.toContain("sk-one");
  });
});
