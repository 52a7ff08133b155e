// Azure AI Foundry: a connection is one deployment behind the models inference endpoint
// (https://<resource>.services.ai.azure.com/models); it is available when a chat completion routed to it answers.
import { checkDeployment } from "./deployment-probe.ts";
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
  return checkDeployment(
    ctx,
    "Azure AI Foundry",
    ctx.baseUrls.azureAIFoundry,
    ({ endpoint, apiKey, fetch }) => {
      const { baseURL, apiVersion } = foundryBase(endpoint);
      return openAIClient(ctx, {
        baseURL,
        apiKey,
        fetch,
        defaultHeaders: { "api-key": apiKey },
        ...(apiVersion ? { defaultQuery: { "api-version": apiVersion } } : {}),
      });
    },
  );
}
