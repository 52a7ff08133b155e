// Gemini (Google AI Studio keys): the models a key can use are those GET /v1beta/models lists, page by page.
import { z } from "zod";
import { validListing } from "./availability.ts";
import { supportedModels } from "./catalogue.ts";
import { errorDetails, failed, failureFromError, failureFromStatus, send } from "./http.ts";
import type { ModelCheck, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

export const GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta";
/** A bound on pages, so a server that always answers a nextPageToken cannot keep us forever. */
const MAX_PAGES = 50;

const ModelsPage = z.object({
  models: z.array(z.object({ name: z.string() }).loose()).optional(),
  nextPageToken: z.string().optional(),
});

/** Lists the key's models (following nextPageToken) and intersects them with the catalogue. */
export async function checkGemini(ctx: ProviderContext): Promise<ModelCheck> {
  const apiKey = ctx.request.credentials.apiKey;
  if (!apiKey) return failed("InvalidCredentials", "no Gemini API key was given");
  const base = (ctx.baseUrls.gemini ?? GEMINI_BASE_URL).replace(/\/+$/, "");
  const listed = new Set<string>();
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(`${base}/models`);
    url.searchParams.set("pageSize", "1000");
    if (pageToken) url.searchParams.set("pageToken", pageToken);
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(ctx, url.toString(), {
        headers: { "x-goog-api-key": apiKey, accept: "application/json" },
      });
    } catch (error) {
      return failureFromError(ctx, "Gemini", error);
    }
    if (answer.status !== 200) return geminiFailure(ctx, answer);
    const parsed = ModelsPage.safeParse(answer.body);
    if (!parsed.success) return failed("Unavailable", "Gemini answered a model list in an unexpected shape");
    for (const model of parsed.data.models ?? []) listed.add(model.name.replace(/^models\//, ""));
    pageToken = parsed.data.nextPageToken || undefined;
    if (!pageToken) break;
  }
  return validListing(
    ctx,
    supportedModels(ctx.catalogue, "Gemini") ?? [],
    (name) => listed.has(name) || MODEL_REASON.NotListed,
    (count) => `the key reaches ${count} supported Gemini model(s)`,
  );
}

/** Gemini answers a bad key with 400 and reason API_KEY_INVALID (or 403): both are InvalidCredentials. */
function geminiFailure(ctx: ProviderContext, answer: Awaited<ReturnType<typeof send>>): ModelCheck {
  if (answer.status === 400 && reasons(answer.body).includes("API_KEY_INVALID")) {
    return failed("InvalidCredentials", "Gemini rejected the API key: HTTP 400 (API_KEY_INVALID)");
  }
  if (answer.status === 400 && /api key/i.test(errorDetails(answer.body).message ?? "")) {
    return failed("InvalidCredentials", "Gemini rejected the API key: HTTP 400");
  }
  return failureFromStatus(ctx, "Gemini", answer);
}

/** The google.rpc.ErrorInfo reasons in an error body's details. */
function reasons(body: unknown): string[] {
  const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) => (typeof d?.reason === "string" ? [d.reason as string] : []));
}
