// Azure AI Foundry: a connection is one deployment behind the models inference endpoint
// (https://<resource>.services.ai.azure.com/models); it is available when a chat completion routed to it answers.
import { capturingFetch, probeDeployment } from "./deployment-probe.ts";
import { guardedEndpoint } from "./guarded.ts";
import { failed } from "./http.ts";
import { openAIClient } from "./sdk.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";

/** The Azure AI Model Inference API version of the `/models` endpoint. */
export const AZURE_FOUNDRY_API_VERSION = "2024-05-01-preview";

/**
 * The base the chat completion hangs off: a bare resource URL gets `/models` (the inference endpoint);
 * a URL with a path (`/models`, `/openai/v1`) is used as given. Only `/models` takes an api-version.
 */
export function foundryBase(endpoint: string): { baseURL: string; apiVersion?: string } {
  const url = new URL(endpoint);
  const path = url.pathname.replace(/\/+$/, "");
  const baseURL = `${url.origin}${path === "" ? "/models" : path}`;
  return baseURL.endsWith("/models") ? { baseURL, apiVersion: AZURE_FOUNDRY_API_VERSION } : { baseURL };
}

/** POSTs {base}/chat/completions with model = the deployment, `api-key` and Bearer auth. */
export async function checkAzureFoundry(ctx: ProviderContext): Promise<ModelCheck> {
  const { credentials, deployment } = ctx.request;
  if (!credentials.apiKey) return failed("InvalidCredentials", "no Azure AI Foundry API key was given");
  if (!ctx.request.endpoint || !deployment)
    return failed("Unavailable", "the Azure AI Foundry endpoint or deployment is not set");
  const endpoint = ctx.baseUrls.azureAIFoundry?.(ctx.request.endpoint) ?? ctx.request.endpoint;
  const pinned = await guardedEndpoint(ctx, "the endpoint", endpoint, false);
  if ("failure" in pinned) return pinned.failure;
  try {
    const capture = capturingFetch(pinned.fetch);
    const { baseURL, apiVersion } = foundryBase(endpoint);
    const client = openAIClient(ctx, {
      baseURL,
      apiKey: credentials.apiKey,
      fetch: capture.fetch,
      defaultHeaders: { "api-key": credentials.apiKey },
      ...(apiVersion ? { defaultQuery: { "api-version": apiVersion } } : {}),
    });
    return await probeDeployment(ctx, "Azure AI Foundry", deployment, client, capture.lastBody);
  } finally {
    await pinned.close();
  }
}
