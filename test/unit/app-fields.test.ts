import { describe, expect, it } from "vitest";
import { PROVIDERS, type Provider } from "../../crds/index.ts";
import {
  CACHED_MODELS_LIMIT,
  cachedAvailableModels,
  desiredFields,
  fieldDrift,
  type ManagedFields,
  recordMatches,
} from "../../operator/reconcile/app-fields.ts";
import { appRecord, specFor } from "./fixtures/connection.ts";

const none = { deployment_name: null, endpoint: null, google_project_id: null, google_location: null };

describe("desiredFields", () => {
  it.each<[Provider, ManagedFields]>([
    ["OpenAI", { provider: "OpenAI", scope: "Organization", ...none }],
    ["Gemini", { provider: "Gemini", scope: "Organization", ...none }],
    ["Anthropic", { provider: "Anthropic", scope: "Organization", ...none }],
    [
      "VertexAI",
      {
        provider: "VertexAI",
        scope: "Organization",
        ...none,
        google_project_id: "acme-ml",
        google_location: "europe-west4",
      },
    ],
    [
      "AzureOpenAI",
      {
        provider: "AzureOpenAI",
        scope: "Model",
        ...none,
        deployment_name: "gpt4o-prod",
        endpoint: "https://acme.openai.azure.com/",
      },
    ],
    [
      "AzureAIFoundry",
      {
        provider: "AzureAIFoundry",
        scope: "Model",
        ...none,
        deployment_name: "llama-prod",
        endpoint: "https://acme.services.ai.azure.com/models",
      },
    ],
    [
      "Custom",
      {
        provider: "Custom",
        scope: "Model",
        ...none,
        deployment_name: "llama3.1:8b",
        endpoint: "http://ollama:11434/v1",
      },
    ],
  ])("%s sends exactly its fields", (provider, fields) => {
    expect(desiredFields(specFor(provider))).toStrictEqual(fields);
  });

  it("covers all seven providers", () => {
    expect(PROVIDERS).toHaveLength(7);
    for (const provider of PROVIDERS) expect(desiredFields(specFor(provider)).provider).toBe(provider);
  });

  it("leaves VertexAI's project and location null when the spec leaves them to the credentials", () => {
    const spec = {
      ...specFor("VertexAI"),
      vertexAI: { credentialsSecretRef: { name: "vertex", key: "json" } },
    };
    expect(desiredFields(spec)).toMatchObject({ google_project_id: null, google_location: null });
  });

  it("uses what provisioning produced for a provisioned Azure connection", () => {
    const spec = { ...specFor("AzureOpenAI"), azure: {} };
    expect(
      desiredFields(spec, { deployment: "acme-gpt4o", endpoint: "https://acme-aoai.openai.azure.com/" }),
    ).toMatchObject({
      deployment_name: "acme-gpt4o",
      endpoint: "https://acme-aoai.openai.azure.com/",
    });
  });

  it("includes cached_available_models only once a model check gave names", () => {
    expect(desiredFields(specFor("OpenAI"))).not.toHaveProperty("cached_available_models");
    expect(desiredFields(specFor("OpenAI"), undefined, [])).toHaveProperty("cached_available_models", "");
    expect(desiredFields(specFor("OpenAI"), undefined, ["gpt-4o", "gpt-4.1"])).toHaveProperty(
      "cached_available_models",
      "gpt-4o,gpt-4.1",
    );
  });

  it("never carries a secret field", () => {
    for (const provider of PROVIDERS) {
      const fields = desiredFields(specFor(provider), undefined, ["m"]);
      for (const secret of ["api_key", "auth_token", "google_application_credentials"]) {
        expect(fields).not.toHaveProperty(secret);
      }
    }
  });
});

describe("cachedAvailableModels", () => {
  const name = (i: number, width: number) => `m${String(i).padStart(width - 1, "0")}`;

  it("joins names with commas", () => {
    expect(cachedAvailableModels(["a", "b", "c"])).toBe("a,b,c");
    expect(cachedAvailableModels([])).toBe("");
  });

  it("keeps a list that is exactly at the limit", () => {
    // 512 names of 7 characters + 511 commas = 4095; one more character in the last name makes 4096.
    const names = Array.from({ length: 512 }, (_, i) => name(i, 7));
    names[511] = `${names[511]}x`;
    const text = cachedAvailableModels(names);
    expect(text.length).toBe(CACHED_MODELS_LIMIT);
    expect(text.split(",")).toEqual(names);
  });

  it.each([1, 2, 5, 9])("cuts at a whole name when names of %i characters overflow", (extra) => {
    const names = Array.from({ length: 600 }, (_, i) => name(i, 7 + extra));
    const text = cachedAvailableModels(names);
    expect(text.length).toBeLessThanOrEqual(CACHED_MODELS_LIMIT);
    const kept = text.split(",");
    expect(kept).toEqual(names.slice(0, kept.length));
    // The next name would not have fitted.
    expect(`${text},${names[kept.length]}`.length).toBeGreaterThan(CACHED_MODELS_LIMIT);
  });

  it("stops at the first name that does not fit (never a partial name, never a later short one)", () => {
    const text = cachedAvailableModels(["a", "b".repeat(CACHED_MODELS_LIMIT), "c"]);
    expect(text).toBe("a");
  });

  it("is empty when the first name alone is too long", () => {
    expect(cachedAvailableModels(["x".repeat(CACHED_MODELS_LIMIT + 1)])).toBe("");
  });
});

describe("fieldDrift", () => {
  const desired = desiredFields(specFor("AzureOpenAI"));
  const inSync = appRecord(desired);

  it("finds nothing when the record holds the desired fields", () => {
    expect(fieldDrift(desired, inSync)).toEqual({});
  });

  it.each([
    ["deployment_name", "gpt4o-old"],
    ["endpoint", "https://elsewhere.openai.azure.com/"],
    ["scope", "Organization"],
    ["provider", "OpenAI"],
    ["google_project_id", "stray"],
  ] as const)("reports only %s when only it changed, with the desired value", (field, value) => {
    expect(fieldDrift(desired, { ...inSync, [field]: value })).toEqual({ [field]: desired[field] });
  });

  it("reports every changed field", () => {
    const record = { ...inSync, deployment_name: "x", endpoint: "https://y.example/" };
    expect(fieldDrift(desired, record)).toEqual({
      deployment_name: desired.deployment_name,
      endpoint: desired.endpoint,
    });
  });

  it("treats a missing field and null alike", () => {
    const openai = desiredFields(specFor("OpenAI"));
    expect(fieldDrift(openai, { id: 1, provider: "OpenAI", scope: "Organization" })).toEqual({});
  });

  it("ignores cached_available_models until the models are known", () => {
    expect(fieldDrift(desired, { ...inSync, cached_available_models: "gpt-4o" })).toEqual({});
  });

  it("compares cached_available_models once the models are known", () => {
    const withModels = desiredFields(specFor("AzureOpenAI"), undefined, ["gpt-4o"]);
    expect(fieldDrift(withModels, { ...inSync, cached_available_models: "gpt-4o" })).toEqual({});
    expect(fieldDrift(withModels, { ...inSync, cached_available_models: null })).toEqual({
      cached_available_models: "gpt-4o",
    });
  });

  it("ignores fields it does not manage (ids, budgets, timestamps)", () => {
    const record = {
      ...inSync,
      id: 99,
      updated_at: "2030-01-01T00:00:00Z",
      created_by: { id: 1 },
      budget_limit: 5,
    };
    expect(fieldDrift(desired, record)).toEqual({});
  });
});

describe("recordMatches", () => {
  it.each<[Provider]>([["OpenAI"], ["Gemini"], ["Anthropic"], ["VertexAI"]])(
    "%s (organization-wide) matches any record of the same provider",
    (provider) => {
      const desired = desiredFields(specFor(provider));
      expect(
        recordMatches(desired, appRecord({ provider, deployment_name: "anything", endpoint: "https://x/" })),
      ).toBe(true);
      expect(
        recordMatches(desired, appRecord({ provider: provider === "OpenAI" ? "Gemini" : "OpenAI" })),
      ).toBe(false);
    },
  );

  const azure = desiredFields(specFor("AzureOpenAI"));
  const azureRecord = (deployment_name: string | null, endpoint: string | null) =>
    appRecord({ provider: "AzureOpenAI", scope: "Model", deployment_name, endpoint });

  it.each([
    ["the same deployment and endpoint", "gpt4o-prod", "https://acme.openai.azure.com/", true],
    ["the endpoint without its trailing slash", "gpt4o-prod", "https://acme.openai.azure.com", true],
    ["the endpoint with extra trailing slashes", "gpt4o-prod", "https://acme.openai.azure.com///", true],
    ["the endpoint in another case", "gpt4o-prod", "HTTPS://ACME.OpenAI.Azure.com/", true],
    ["the endpoint with surrounding space", "gpt4o-prod", " https://acme.openai.azure.com/ ", true],
    ["another deployment", "gpt4o-dev", "https://acme.openai.azure.com/", false],
    ["the deployment in another case", "GPT4O-PROD", "https://acme.openai.azure.com/", false],
    ["another endpoint", "gpt4o-prod", "https://other.openai.azure.com/", false],
    ["another path on the endpoint", "gpt4o-prod", "https://acme.openai.azure.com/v2", false],
    ["no deployment", null, "https://acme.openai.azure.com/", false],
    ["no endpoint", "gpt4o-prod", null, false],
  ])("a per-model record with %s → %s", (_case, deployment, endpoint, matches) => {
    expect(recordMatches(azure, azureRecord(deployment, endpoint))).toBe(matches);
  });

  it("a per-model record of another provider never matches", () => {
    const record = appRecord({
      provider: "AzureAIFoundry",
      deployment_name: "gpt4o-prod",
      endpoint: azure.endpoint,
    });
    expect(recordMatches(azure, record)).toBe(false);
  });

  it("Custom matches on model name and base URL", () => {
    const custom = desiredFields(specFor("Custom"));
    const record = (deployment_name: string, endpoint: string) =>
      appRecord({ provider: "Custom", scope: "Model", deployment_name, endpoint });
    expect(recordMatches(custom, record("llama3.1:8b", "http://ollama:11434/v1/"))).toBe(true);
    expect(recordMatches(custom, record("llama3.1:70b", "http://ollama:11434/v1"))).toBe(false);
  });
});
