// Azure OpenAI and Azure AI Foundry checks: the deployment answers a minimal chat completion (or says why not).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { APP_ADDRESSES } from "../../labelstudio/app-addresses.ts";
import type { OpenAIBehaviour, StandIn } from "../../local/providers/index.ts";
import { startOpenAIStandIn } from "../../local/providers/openai.ts";
import {
  checkModels,
  loadCatalogue,
  type ModelCheckOptions,
  type ModelCheckRequest,
} from "../../operator/providers/index.ts";

const KEY = "azure-test-valid-key-0123456789";
let server: StandIn<OpenAIBehaviour>;
let options: ModelCheckOptions;

beforeAll(async () => {
  server = await startOpenAIStandIn();
  options = {
    catalogue: loadCatalogue(),
    timeoutMs: 2000,
    baseUrls: { azureOpenAI: () => server.url, azureAIFoundry: () => `${server.url}/models` },
  };
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({
    fault: undefined,
    keys: [KEY],
    networkRestricted: false,
    deployments: {
      "chat-4o": { model: "gpt-4o-2024-11-20" },
      embeddings: { model: "text-embedding-3-small", kind: "embeddings" },
    },
  });
  server.clearRequests();
});

const azure = (extra: Partial<ModelCheckRequest> = {}) =>
  checkModels(
    {
      provider: "AzureOpenAI",
      credentials: { apiKey: KEY },
      endpoint: "https://acme.openai.azure.com/",
      deployment: "chat-4o",
      ...extra,
    },
    options,
  );
const foundry = (extra: Partial<ModelCheckRequest> = {}) =>
  checkModels(
    {
      provider: "AzureAIFoundry",
      credentials: { apiKey: KEY },
      endpoint: "https://acme.services.ai.azure.com/",
      deployment: "chat-4o",
      ...extra,
    },
    options,
  );

describe("Azure OpenAI deployment check", () => {
  it("valid: the deployment answers and names its model; api-key header and api-version 2024-10-21", async () => {
    const result = await azure({ expectedModels: ["gpt-4o", "gpt-4.1"] });
    expect(result).toMatchObject({
      outcome: "Valid",
      servedModel: "gpt-4o-2024-11-20",
      models: [{ name: "chat-4o", available: true }],
      expectedMissing: ["gpt-4.1"],
    });
    const request = server.requests[0];
    expect(request?.path).toBe("/openai/deployments/chat-4o/chat/completions");
    expect(request?.query.get("api-version")).toBe("2024-10-21");
    expect(request?.headers["api-key"]).toBe(KEY);
    expect(request?.headers.authorization).toBeUndefined();
  });

  it("network rules refuse us (403) → NetworkRestricted naming the app's three addresses", async () => {
    server.set({ networkRestricted: true });
    const result = await azure();
    expect(result.outcome).toBe("NetworkRestricted");
    for (const address of ["3.219.3.197", "34.237.73.3", "44.216.17.242"])
      expect(result.message).toContain(address);
    expect(APP_ADDRESSES).toEqual(["3.219.3.197", "34.237.73.3", "44.216.17.242"]);
  });

  it("a network-rule 403 with a top-level body and no policy header is still NetworkRestricted", async () => {
    const body = {
      code: "403",
      message:
        "A Virtual Network is configured for this resource. Please use the correct endpoint for making requests.",
    };
    server.set({ fault: { status: 403, body } });
    expect((await azure()).outcome).toBe("NetworkRestricted");
  });

  it("any other 403 → InvalidCredentials", async () => {
    server.set({
      fault: {
        status: 403,
        body: { error: { code: "PermissionDenied", message: "The principal lacks the role." } },
      },
    });
    expect((await azure()).outcome).toBe("InvalidCredentials");
  });

  it.each([
    {
      name: "invalid key (401)",
      request: { credentials: { apiKey: "azure-wrong-key-99999999" } },
      outcome: "InvalidCredentials",
    },
    { name: "rate limited", fault: { status: 429, retryAfterSeconds: 20 }, outcome: "RateLimited" },
    { name: "down (500)", fault: { status: 500 }, outcome: "Unavailable" },
    { name: "connection dropped", fault: { drop: true }, outcome: "Unavailable" },
  ])("$name → $outcome", async ({ request, fault, outcome }) => {
    if (fault) server.set({ fault });
    const result = await azure(request);
    expect(result.outcome).toBe(outcome);
    if (outcome === "RateLimited") expect(result.retryAfterMs).toBe(20_000);
  });

  it("missing deployment (404 DeploymentNotFound): credentials valid, the deployment unavailable", async () => {
    const result = await azure({ deployment: "nope", expectedModels: ["nope"] });
    expect(result.outcome).toBe("Valid");
    expect(result.models).toEqual([{ name: "nope", available: false, reason: "DeploymentNotFound" }]);
    expect(result.expectedMissing).toEqual(["nope"]);
  });

  it("an embeddings deployment (400 OperationNotSupported) is not a chat model", async () => {
    const result = await azure({ deployment: "embeddings" });
    expect(result.models).toEqual([{ name: "embeddings", available: false, reason: "NotAChatModel" }]);
  });

  it("an endpoint that resolves to the metadata address is refused before any request", async () => {
    const result = await checkModels(
      {
        provider: "AzureOpenAI",
        credentials: { apiKey: KEY },
        endpoint: "https://169.254.169.254/",
        deployment: "x",
      },
      { ...options, baseUrls: {} },
    );
    expect(result.outcome).toBe("EgressDenied");
    expect(server.count()).toBe(0);
  });
});

describe("Azure AI Foundry deployment check", () => {
  it("valid: the inference endpoint routes by model = deployment", async () => {
    const result = await foundry();
    expect(result).toMatchObject({
      outcome: "Valid",
      servedModel: "gpt-4o-2024-11-20",
      models: [{ name: "chat-4o", available: true }],
    });
    const request = server.requests[0];
    expect(request?.path).toBe("/models/chat/completions");
    expect((request?.body as { model?: string } | undefined)?.model).toBe("chat-4o");
    expect(request?.headers["api-key"]).toBe(KEY);
  });

  it("unknown deployment (400 unknown_model) → DeploymentNotFound", async () => {
    const result = await foundry({ deployment: "missing" });
    expect(result.models).toEqual([{ name: "missing", available: false, reason: "DeploymentNotFound" }]);
  });

  it.each([
    {
      name: "network rules",
      setup: () => server.set({ networkRestricted: true }),
      outcome: "NetworkRestricted",
    },
    { name: "invalid key", setup: () => server.set({ keys: ["another"] }), outcome: "InvalidCredentials" },
    {
      name: "rate limited",
      setup: () => server.set({ fault: { status: 429, retryAfterSeconds: 1 } }),
      outcome: "RateLimited",
    },
    { name: "down", setup: () => server.set({ fault: { status: 502 } }), outcome: "Unavailable" },
  ])("$name → $outcome", async ({ setup, outcome }) => {
    setup();
    expect((await foundry()).outcome).toBe(outcome);
  });
});
