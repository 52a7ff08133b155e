// Azure OpenAI: a connection is one deployment; it is available when a minimal chat completion against it
// answers, and the answer's `model` names the model behind it.
import { checkDeployment } from "./deployment-probe.ts";
import { azureOpenAIClient } from "./sdk.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";

/** The GA data-plane API version the probe speaks. */
export const AZURE_OPENAI_API_VERSION = "2024-10-21";

/** POSTs {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=2024-10-21 with `api-key`. */
export async function checkAzureOpenAI(ctx: ProviderContext): Promise<ModelCheck> {
  return checkDeployment(ctx, "Azure OpenAI", ctx.baseUrls.azureOpenAI, (target) =>
    azureOpenAIClient(ctx, { ...target, apiVersion: AZURE_OPENAI_API_VERSION }),
  );
}
