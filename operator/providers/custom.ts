// Custom (OpenAI format): GET {endpoint}/models shows the server speaks the format; a chat completion with
// response_format json_object whose content parses as JSON shows the JSON mode the app requires. Both are sent
// at once. A model list this server gave the same credential in the last seconds is used instead of asking again.
import { APIError } from "openai";
import { z } from "zod";
import { scrubMessage as scrub } from "../scrub.ts";
import { deploymentAvailability } from "./availability.ts";
import { capturingFetch } from "./deployment-probe.ts";
import { guardedEndpoint } from "./guarded.ts";
import { errorDetails, failed, failureFromError } from "./http.ts";
import { ListingCache } from "./listing-cache.ts";
import { credentialHeaders, sdkRequestOptions, sharedOpenAIClient, throughFetch } from "./sdk.ts";
import type { ModelCheck, ModelReason, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

const ModelList = z.object({ data: z.array(z.object({ id: z.string() }).loose()) });

/** OpenAI's JSON mode wants the word JSON in the messages; a short object keeps the answer short. */
const JSON_PROBE = [
  { role: "system" as const, content: "You answer with JSON only." },
  { role: "user" as const, content: 'Reply with the JSON object {"ok": true}.' },
];

/**
 * The status of a 4xx that tells about compatibility or JSON mode (404, 400, 405, 422, ...); undefined for
 * failures that end the check whatever else was learnt (401/403 credentials, 429, 5xx, transport).
 */
function informativeStatus(error: unknown): number | undefined {
  if (!(error instanceof APIError) || typeof error.status !== "number") return undefined;
  const { status } = error;
  return status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 429
    ? status
    : undefined;
}

/**
 * Checks compatibility and JSON mode separately (both are reported), with `Authorization: Bearer` from the
 * API key, else the auth token, else none. Outcome: a credential/rate/transport failure first, then
 * NotOpenAICompatible, then JSONModeUnsupported, else Valid. The endpoint passes the egress guard, allow
 * list included, and the connection is pinned to the checked addresses. The list and the JSON-mode request go
 * out together (a check waits one round trip, not two), so a rejected key is told so twice.
 */
export async function checkCustom(ctx: ProviderContext): Promise<ModelCheck> {
  const { name, credentials } = ctx.request;
  const endpoint =
    ctx.request.endpoint && (ctx.baseUrls.custom?.(ctx.request.endpoint) ?? ctx.request.endpoint);
  if (!endpoint || !name) return failed("Unavailable", "the custom endpoint or model name is not set");
  const pinned = await guardedEndpoint(ctx, "the endpoint", endpoint, true);
  if ("failure" in pinned) return pinned.failure;
  try {
    const capture = capturingFetch(pinned.fetch);
    const baseURL = endpoint.replace(/\/+$/, "");
    const credential = credentials.apiKey || credentials.authToken || undefined;
    const client = sharedOpenAIClient(ctx, baseURL, pinned.fetch);
    const requestOptions = { ...sdkRequestOptions(ctx), headers: credentialHeaders(credential) };
    // A listing this server gave this credential moments ago (another connection's check) stands for the list.
    const listingKey = ctx.listings && ListingCache.key(baseURL, credential);
    const recentListing = listingKey ? ctx.listings?.get(listingKey) : undefined;
    // Independent reads of the same endpoint, sent together (one round trip's wait, not two); read in order
    // below, so a failure of the list still decides the outcome as if it had been sent alone.
    const [list, completion] = await throughFetch(capture.fetch, () =>
      Promise.allSettled([
        recentListing ? Promise.resolve(undefined) : client.models.list(requestOptions),
        client.chat.completions.create(
          { model: name, messages: JSON_PROBE, response_format: { type: "json_object" }, max_tokens: 64 },
          requestOptions,
        ),
      ]),
    );

    // 1. The model list.
    let listed: Set<string> | undefined;
    let compatibility = "";
    if (recentListing) {
      listed = new Set(recentListing);
    } else if (list.status === "fulfilled") {
      const parsed = ModelList.safeParse(capture.bodyOf("/models"));
      if (parsed.success) {
        listed = new Set(parsed.data.data.map((m) => m.id));
        if (listingKey) ctx.listings?.set(listingKey, [...listed]);
      } else compatibility = "GET /models did not answer an OpenAI-format list";
    } else {
      const status = informativeStatus(list.reason);
      if (status === undefined) return failureFromError(ctx, "the custom endpoint", list.reason);
      compatibility = `GET /models answered HTTP ${status}`;
    }

    // 2. JSON mode.
    let jsonMode: boolean | undefined;
    let reach: true | ModelReason = true;
    let jsonNote = "";
    if (completion.status === "fulfilled") {
      const content = completion.value.choices?.[0]?.message?.content;
      jsonMode = typeof content === "string" && parsesAsJson(content);
      if (!jsonMode) jsonNote = "the JSON-mode answer's content does not parse as JSON";
    } else {
      const error = completion.reason;
      const status = informativeStatus(error);
      if (status === undefined) return failureFromError(ctx, "the custom endpoint", error);
      const { code, message } = errorDetails(
        capture.bodyOf("/chat/completions") ?? (error as APIError).error,
      );
      const said = message ? `: ${scrub(message, ctx.secrets)}` : "";
      if (status === 404) {
        reach = MODEL_REASON.DeploymentNotFound;
        jsonNote = `the server does not know the model "${name}" (HTTP 404${code ? ` ${code}` : ""})${said}`;
      } else {
        jsonMode = false;
        jsonNote = `response_format json_object was refused (HTTP ${status}${code ? ` ${code}` : ""})${said}`;
      }
    }
    if (reach === true && jsonMode === false && listed && !listed.has(name)) reach = MODEL_REASON.NotListed;

    const openAICompatible = listed !== undefined;
    const availability = deploymentAvailability(name, reach, undefined, ctx.request.expectedModels ?? []);
    const flags = { openAICompatible, ...(jsonMode !== undefined ? { jsonMode } : {}) };
    if (!openAICompatible) {
      const message = [compatibility, jsonNote].filter(Boolean).join("; ");
      return { outcome: "NotOpenAICompatible", message, ...flags, ...availability };
    }
    if (jsonMode === false)
      return { outcome: "JSONModeUnsupported", message: jsonNote, ...flags, ...availability };
    const message = jsonMode ? `the server answers model "${name}" in JSON mode` : jsonNote;
    return { outcome: "Valid", message, ...flags, ...availability };
  } finally {
    await pinned.close();
  }
}

function parsesAsJson(content: string): boolean {
  try {
    JSON.parse(content);
    return true;
  } catch {
    return false;
  }
}
