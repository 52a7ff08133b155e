// Azure OpenAI: a connection is one deployment; it is available when a minimal chat completion against it
// answers, and the answer's `model` names the model behind it.
import { capturingFetch, probeDeployment } from "./deployment-probe.ts";
import { guardedEndpoint } from "./guarded.ts";
import { failed } from "./http.ts";
import { azureOpenAIClient } from "./sdk.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";

/** The GA data-plane API version the probe speaks. */
export const AZURE_OPENAI_API_VERSION = "2024-10-21";

/** POSTs {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21 with `api-key`. */
export async function checkAzureOpenAI(ctx: ProviderContext): Promise<ModelCheck> {
  const { credentials, deployment } = ctx.request;
  if (!credentials.apiKey) return failed("InvalidCredentials", "no Azure OpenAI API key was given");
  if (!ctx.request.endpoint || !deployment)
    return failed("Unavailable", "the Azure OpenAI endpoint or deployment is not set");
  const endpoint = ctx.baseUrls.azureOpenAI?.(ctx.request.endpoint) ?? ctx.request.endpoint;
  const pinned = await guardedEndpoint(ctx, "the endpoint", endpoint, false);
  if ("failure" in pinned) return pinned.failure;
  try {
    const capture = capturingFetch(pinned.fetch);
    const client = azureOpenAIClient(ctx, {
      endpoint,
      apiKey: credentials.apiKey,
      deployment,
      apiVersion: AZURE_OPENAI_API_VERSION,
      fetch: capture.fetch,
    });
    return await probeDeployment(ctx, "Azure OpenAI", deployment, client, capture.lastBody);
  } finally {
    await pinned.close();
  }
}
