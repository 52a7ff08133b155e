import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../crds/index.ts";
import {
  type Credentials,
  credentialRefs,
  fingerprint,
  referencedSecretNames,
} from "../../operator/reconcile/credentials.ts";
import { specFor } from "./fixtures/connection.ts";

const FORMAT = /^sha256:[0-9a-f]{12}$/;

describe("fingerprint", () => {
  const values: Credentials[] = [
    {},
    { apiKey: "sk-canary-0123456789abcdef" },
    { apiKey: "sk-canary-0123456789abcdeg" },
    { apiKey: "" },
    { authToken: "sk-canary-0123456789abcdef" },
    { apiKey: "a", authToken: "b" },
    { apiKey: "ab" },
    { apiKey: "a:b" },
    { apiKey: "a", authToken: "b:" },
    { credentialsJson: '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----canary"}' },
  ];

  it.each(values)("is sha256: and 12 hex characters for %j", (credentials) => {
    expect(fingerprint(credentials)).toMatch(FORMAT);
  });

  it("differs for every distinct value, including the same value in another slot", () => {
    const prints = values.map(fingerprint);
    expect(new Set(prints).size).toBe(values.length);
  });

  it("is stable for the same value", () => {
    expect(fingerprint({ apiKey: "sk-live-1" })).toBe(fingerprint({ apiKey: "sk-live-1" }));
  });

  it("changes when one of several slots changes", () => {
    expect(fingerprint({ apiKey: "k", authToken: "t1" })).not.toBe(
      fingerprint({ apiKey: "k", authToken: "t2" }),
    );
  });

  it.each(["sk-canary-0123456789abcdef", "abcdef012345", "0123456789ab"])(
    "never contains the value %s",
    (value) => {
      for (const credentials of [{ apiKey: value }, { authToken: value }, { credentialsJson: value }]) {
        const print = fingerprint(credentials);
        expect(print).not.toContain(value);
        expect(print).not.toContain(value.slice(0, 8));
      }
    },
  );
});

describe("credentialRefs", () => {
  it.each([
    ["OpenAI", { apiKey: { name: "openai", key: "api-key" } }],
    ["Gemini", { apiKey: { name: "gemini", key: "api-key" } }],
    ["Anthropic", { apiKey: { name: "anthropic", key: "api-key" } }],
    ["VertexAI", { credentialsJson: { name: "vertex", key: "credentials.json" } }],
    ["AzureOpenAI", { apiKey: { name: "azure", key: "api-key" } }],
    ["AzureAIFoundry", { apiKey: { name: "foundry", key: "api-key" } }],
    ["Custom", { apiKey: { name: "ollama", key: "api-key" }, authToken: undefined }],
  ] as const)("reads the %s block's Secret keys", (provider, refs) => {
    expect(credentialRefs(specFor(provider))).toEqual(refs);
  });

  it("covers every provider", () => {
    for (const provider of PROVIDERS)
      expect(Object.keys(credentialRefs(specFor(provider))).length).toBeGreaterThan(0);
  });

  it("reads both Custom slots when both are set", () => {
    const spec = specFor("Custom");
    const custom = {
      name: "llama3.1:8b",
      endpoint: "http://ollama:11434/v1",
      apiKeySecretRef: { name: "ollama", key: "api-key" },
      authTokenSecretRef: { name: "ollama", key: "token" },
    };
    expect(credentialRefs({ ...spec, custom })).toEqual({
      apiKey: { name: "ollama", key: "api-key" },
      authToken: { name: "ollama", key: "token" },
    });
  });

  const provisioned = {
    ...specFor("AzureOpenAI"),
    azure: {
      provision: {
        accountRef: { name: "acme-openai" },
        deployment: { model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 10 } },
      },
    },
  };

  it("reads a provisioned Azure connection's owned Secret once provisioning named it", () => {
    expect(credentialRefs(provisioned, "aoai-keys")).toEqual({
      apiKey: { name: "aoai-keys", key: "api-key" },
    });
  });

  it("reads nothing for a provisioned Azure connection before provisioning", () => {
    expect(credentialRefs(provisioned)).toEqual({});
  });
});

describe("referencedSecretNames", () => {
  it("lists each Secret once, sorted, skipping empty slots", () => {
    expect(
      referencedSecretNames({
        apiKey: { name: "zeta", key: "a" },
        authToken: { name: "alpha", key: "b" },
        credentialsJson: undefined,
      }),
    ).toEqual(["alpha", "zeta"]);
    expect(
      referencedSecretNames({ apiKey: { name: "s", key: "a" }, authToken: { name: "s", key: "b" } }),
    ).toEqual(["s"]);
    expect(referencedSecretNames({})).toEqual([]);
  });
});
