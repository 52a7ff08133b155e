// What each provider's connection asks its provider to check: the spec block's non-secret fields, the
// credential, the expected models, and for a provisioned Azure connection the provisioned deployment.
import { describe, expect, it } from "vitest";
import type { Provider } from "../../crds/index.ts";
import { modelCheckRequest } from "../../operator/reconcile/model-check-request.ts";
import { connection } from "./fixtures/connection.ts";

const credentials = { apiKey: "k" };

describe("modelCheckRequest", () => {
  it.each<[Provider, Record<string, unknown>]>([
    ["OpenAI", {}],
    ["Gemini", {}],
    ["Anthropic", {}],
    ["VertexAI", { projectId: "acme-ml", location: "europe-west4" }],
    ["AzureOpenAI", { endpoint: "https://acme.openai.azure.com/", deployment: "gpt4o-prod" }],
    ["AzureAIFoundry", { endpoint: "https://acme.services.ai.azure.com/models", deployment: "llama-prod" }],
    ["Custom", { endpoint: "http://ollama:11434/v1", name: "llama3.1:8b" }],
  ])("%s sends its block's fields", (provider, fields) => {
    const request = modelCheckRequest(connection({ provider, spec: { models: ["m"] } }), credentials);
    expect(request).toEqual({ provider, credentials, expectedModels: ["m"], ...fields });
  });

  it("a provisioned Azure connection checks what provisioning produced", () => {
    const provisioned = { deployment: "made", endpoint: "https://made.openai.azure.com/" };
    const request = modelCheckRequest(connection({ provider: "AzureOpenAI" }), credentials, provisioned);
    expect(request).toMatchObject(provisioned);
  });
});
