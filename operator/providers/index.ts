// The one entry point for "which models can this credential use": picks the provider module, resolves
// the options, and makes sure no message carries a secret.
import type { Provider } from "../../crds/providerconnection.ts";
import { scrubMessage as scrub } from "../scrub.ts";
import { createEgressGuard } from "./egress.ts";
import type { ModelCheck, ModelCheckOptions, ModelCheckRequest, ProviderContext } from "./types.ts";

export type { Catalogue } from "./catalogue.ts";
export { CatalogueError, loadCatalogue, SHIPPED_CATALOGUE, supportedModels } from "./catalogue.ts";
export type { EgressDecision, EgressGuard, EgressGuardOptions, ResolvedAddress, Resolver } from "./egress.ts";
export { createEgressGuard } from "./egress.ts";
export { ListingCache } from "./listing-cache.ts";
export type {
  ModelAvailability,
  ModelCheck,
  ModelCheckOptions,
  ModelCheckOutcome,
  ModelCheckRequest,
  ModelReason,
  ProviderBaseUrls,
  ProviderCredentials,
} from "./types.ts";
export { MODEL_REASON, OUTCOMES } from "./types.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;

type Checker = (ctx: ProviderContext) => Promise<ModelCheck>;

// Each provider's module (and its SDK: openai, google-auth-library) is loaded at its first check, so a process
// pays the memory only for the providers its connections use.
const CHECKERS: Record<Provider, () => Promise<Checker>> = {
  OpenAI: async () => (await import("./openai.ts")).checkOpenAI,
  Gemini: async () => (await import("./gemini.ts")).checkGemini,
  VertexAI: async () => (await import("./vertex.ts")).checkVertex,
  Anthropic: async () => (await import("./anthropic.ts")).checkAnthropic,
  AzureOpenAI: async () => (await import("./azure-openai.ts")).checkAzureOpenAI,
  AzureAIFoundry: async () => (await import("./azure-foundry.ts")).checkAzureFoundry,
  Custom: async () => (await import("./custom.ts")).checkCustom,
};

/**
 * Loads a provider's module (and its SDK) now, without checking anything: a start that sees connections of a
 * provider loads it while its caches fill and its Organizations reconcile (I/O waits), instead of in the first
 * check, where it held every worker for a quarter of a second. Rejects as the first check would.
 */
export async function loadChecker(provider: Provider): Promise<void> {
  await loadedChecker(provider);
}

// Each provider's checker once loaded: an `import()` of a loaded module still resolves its URL each time, which
// cost every check allocations and CPU (the scale benchmark's heap profile).
const loaded = new Map<Provider, Promise<Checker>>();

function loadedChecker(provider: Provider): Promise<Checker> {
  let checker = loaded.get(provider);
  if (!checker) {
    checker = CHECKERS[provider]();
    loaded.set(provider, checker);
    // A failed load is tried again at the next check, as before.
    checker.catch(() => loaded.delete(provider));
  }
  return checker;
}

const defaultGuard = createEgressGuard();

/**
 * Asks the provider which models the credential can use and classifies the answer.
 *
 * Guarantees:
 * - Every provider answer and transport failure becomes a ModelCheck (never a rejection); 401/403 are
 *   InvalidCredentials, 429 RateLimited with `retryAfterMs` when the provider said, 5xx/refused/timeout
 *   Unavailable.
 * - Each HTTP call is limited by `timeoutMs` and `signal`; no call is retried here (the caller backs off).
 * - `message` carries no credential value nor a fragment the provider echoed.
 * Caveats: the promise rejects with the signal's reason when the caller aborts.
 */
export async function checkModels(
  request: ModelCheckRequest,
  options: ModelCheckOptions,
): Promise<ModelCheck> {
  options.signal?.throwIfAborted();
  const { apiKey, authToken } = request.credentials;
  const ctx: ProviderContext = {
    request,
    catalogue: options.catalogue,
    signal: options.signal,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    baseUrls: options.baseUrls ?? {},
    egress: options.egress ?? defaultGuard,
    now: options.now ?? Date.now,
    // The service-account JSON as a whole is not listed: its project id and email are fine in messages.
    // Vertex adds its private key and access token once parsed.
    secrets: [apiKey, authToken].filter((s): s is string => typeof s === "string" && s !== ""),
    ...(options.listings ? { listings: options.listings } : {}),
  };
  const checker = await loadedChecker(request.provider);
  const check = await checker(ctx);
  options.signal?.throwIfAborted();
  return { ...check, message: scrub(check.message, ctx.secrets) };
}
