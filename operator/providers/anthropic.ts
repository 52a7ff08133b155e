// Anthropic: the models a key can use are those GET /v1/models lists (paginated by has_more/after_id).
import { z } from "zod";
import { isVersionOf, validListing } from "./availability.ts";
import { supportedModels } from "./catalogue.ts";
import { failed, failureFromError, failureFromStatus, send } from "./http.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";
export const ANTHROPIC_VERSION = "2023-06-01";
const MAX_PAGES = 50;

const ModelsPage = z.object({
  data: z.array(z.object({ id: z.string() }).loose()),
  has_more: z.boolean().optional(),
  last_id: z.string().nullable().optional(),
});

/**
 * Lists the key's models and intersects them with the catalogue. The list holds dated ids
 * (`claude-3-5-haiku-20241022`), not the `-latest` aliases the app names: an alias is reached when its
 * own id or a dated snapshot of its base name is listed.
 */
export async function checkAnthropic(ctx: ProviderContext): Promise<ModelCheck> {
  const apiKey = ctx.request.credentials.apiKey;
  if (!apiKey) return failed("InvalidCredentials", "no Anthropic API key was given");
  const base = (ctx.baseUrls.anthropic ?? ANTHROPIC_BASE_URL).replace(/\/+$/, "");
  const listed: string[] = [];
  let afterId: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(`${base}/models`);
    url.searchParams.set("limit", "1000");
    if (afterId) url.searchParams.set("after_id", afterId);
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(ctx, url.toString(), {
        headers: { "x-api-key": apiKey, "anthropic-version": ANTHROPIC_VERSION, accept: "application/json" },
      });
    } catch (error) {
      return failureFromError(ctx, "Anthropic", error);
    }
    if (answer.status !== 200) return failureFromStatus(ctx, "Anthropic", answer);
    const parsed = ModelsPage.safeParse(answer.body);
    if (!parsed.success)
      return failed("Unavailable", "Anthropic answered a model list in an unexpected shape");
    listed.push(...parsed.data.data.map((m) => m.id));
    afterId = parsed.data.last_id ?? parsed.data.data.at(-1)?.id;
    if (!parsed.data.has_more || !afterId) break;
  }
  return validListing(
    ctx,
    supportedModels(ctx.catalogue, "Anthropic") ?? [],
    (name) => listed.some((id) => isVersionOf(id, name)) || MODEL_REASON.NotListed,
    (count) => `the key reaches ${count} supported Anthropic model(s)`,
  );
}
