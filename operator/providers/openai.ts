// OpenAI: the models a key can use are the ids GET /v1/models lists (official SDK, models.list).
import { validListing } from "./availability.ts";
import { supportedModels } from "./catalogue.ts";
import { failed, failureFromError } from "./http.ts";
import { openAIClient, sdkRequestOptions } from "./sdk.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/** Lists the key's models and intersects them with the catalogue. */
export async function checkOpenAI(ctx: ProviderContext): Promise<ModelCheck> {
  const apiKey = ctx.request.credentials.apiKey;
  if (!apiKey) return failed("InvalidCredentials", "no OpenAI API key was given");
  const client = openAIClient(ctx, { baseURL: ctx.baseUrls.openai ?? OPENAI_BASE_URL, apiKey });
  const listed = new Set<string>();
  try {
    for await (const model of client.models.list(sdkRequestOptions(ctx))) {
      if (typeof model.id === "string") listed.add(model.id);
    }
  } catch (error) {
    return failureFromError(ctx, "OpenAI", error);
  }
  return validListing(
    ctx,
    supportedModels(ctx.catalogue, "OpenAI") ?? [],
    (name) => listed.has(name) || MODEL_REASON.NotListed,
    (count) => `the key reaches ${count} supported OpenAI model(s)`,
  );
}
