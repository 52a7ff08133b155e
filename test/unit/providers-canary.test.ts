// Canary: whatever a provider answers, echoes or fails with, no ModelCheck carries the key or a piece of it.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fault, type ProviderStandIns, startProviderStandIns } from "../../local/providers/index.ts";
import { checkModels, loadCatalogue, type ModelCheckRequest } from "../../operator/providers/index.ts";
import { scrubMessage as scrub } from "../../operator/scrub.ts";

let standIns: ProviderStandIns;
beforeAll(async () => {
  standIns = await startProviderStandIns();
});
afterAll(() => standIns.stop());

const canary = (prefix: string) => `${prefix}${randomBytes(24).toString("base64url")}`;

/** Every 6-character window of the secret: none may appear in the result. */
function expectNoPieceOf(secret: string, result: unknown): void {
  const text = JSON.stringify(result);
  expect(text).not.toContain(secret);
  for (let i = 0; i + 6 <= secret.length; i++)
    expect(text, `piece ${i}`).not.toContain(secret.slice(i, i + 6));
}

/** Error bodies that echo the key the ways providers do (whole, masked, tail after dots, in a URL). */
function echoes(key: string): unknown[] {
  return [
    { error: { message: `Incorrect API key provided: ${key}`, code: "invalid_api_key" } },
    { error: { message: `key sk-...${key.slice(-8)} is not valid`, code: "x" } },
    { error: { message: `see https://example.test/keys?key=${key.slice(4, 20)}&x=1` } },
    { code: "403", message: `denied for ${key.slice(0, 10)}***${key.slice(-4)}` },
    `<html>upstream error for ${key}</html>`,
  ];
}

type Case = { name: string; request: (key: string) => ModelCheckRequest; prefix: string; faultPath: string };
const cases: Case[] = [
  {
    name: "OpenAI",
    prefix: "sk-proj-",
    faultPath: "/v1/models",
    request: (apiKey) => ({ provider: "OpenAI", credentials: { apiKey } }),
  },
  {
    name: "Gemini",
    prefix: "AIza",
    faultPath: "/v1beta/models",
    request: (apiKey) => ({ provider: "Gemini", credentials: { apiKey } }),
  },
  {
    name: "Anthropic",
    prefix: "sk-ant-api03-",
    faultPath: "/v1/models",
    request: (apiKey) => ({ provider: "Anthropic", credentials: { apiKey } }),
  },
  {
    name: "AzureOpenAI",
    prefix: "",
    faultPath: "/openai/",
    request: (apiKey) => ({
      provider: "AzureOpenAI",
      credentials: { apiKey },
      endpoint: "https://acme.openai.azure.com/",
      deployment: "chat-4o",
    }),
  },
  {
    name: "AzureAIFoundry",
    prefix: "",
    faultPath: "/models/chat",
    request: (apiKey) => ({
      provider: "AzureAIFoundry",
      credentials: { apiKey },
      endpoint: "https://acme.services.ai.azure.com/",
      deployment: "chat-4o",
    }),
  },
  {
    name: "Custom",
    prefix: "",
    faultPath: "/v1/",
    request: (apiKey) => ({
      provider: "Custom",
      credentials: { apiKey },
      endpoint: `${standIns.openai.url}/v1`,
      name: "gpt-4o",
    }),
  },
];

describe.each(cases)("canary: $name", ({ name, prefix, faultPath, request }) => {
  const standInOf = () =>
    name === "Gemini" ? standIns.gemini : name === "Anthropic" ? standIns.anthropic : standIns.openai;

  it("a rejected key does not appear in the result", async () => {
    const key = canary(prefix);
    const result = await checkModels(request(key), {
      catalogue: loadCatalogue(),
      baseUrls: standIns.baseUrls,
      timeoutMs: 2000,
    });
    expect(result.outcome).toBe("InvalidCredentials");
    expectNoPieceOf(key, result);
  });

  it.each([400, 401, 403, 429, 500])("an echo of the key in a %i answer is scrubbed", async (status) => {
    const key = canary(prefix);
    for (const body of echoes(key)) {
      standInOf().set({ fault: { status, body, match: faultPath } as Fault });
      const result = await checkModels(request(key), {
        catalogue: loadCatalogue(),
        baseUrls: standIns.baseUrls,
        timeoutMs: 2000,
      });
      expectNoPieceOf(key, result);
    }
    standInOf().set({ fault: undefined });
  });
});

describe("scrub", () => {
  const key = "sk-proj-Zq81mXv0PLk3RtY2uW9e";
  it.each([
    [`bad key ${key}`, "bad key [REDACTED]"],
    ["Incorrect API key provided: sk-proj-************uW9e.", "Incorrect API key provided: [REDACTED]"],
    [`tail ...${key.slice(-7)} here`, "tail ...[REDACTED] here"],
    [
      "token ya29.a0AfH6SMBx-abc and AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
      "token [REDACTED] and [REDACTED]",
    ],
    ["no secrets in here at all", "no secrets in here at all"],
  ])("%s", (input, expected) => {
    expect(scrub(input, [key])).toBe(expected);
  });

  it("collapses whitespace and cuts long text", () => {
    const out = scrub(`a\n\n b ${"x".repeat(1000)}`, []);
    expect(out.startsWith("a b x")).toBe(true);
    expect(out.length).toBeLessThanOrEqual(300);
  });
});
