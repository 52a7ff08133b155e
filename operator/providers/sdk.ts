// The official `openai` SDK configured for a check: no retries (the reconciler backs off), the call's
// time limit and cancellation, and nothing read from OPENAI_* environment variables.
import { AsyncLocalStorage } from "node:async_hooks";
import OpenAI, { AzureOpenAI } from "openai";
import { callSignal } from "./http.ts";
import type { ProviderContext } from "./types.ts";

export interface SdkClientOptions {
  baseURL: string;
  /** Sent as `Authorization: Bearer`; undefined sends no Authorization header at all. */
  apiKey: string | undefined;
  fetch?: typeof fetch;
  defaultHeaders?: Record<string, string>;
  defaultQuery?: Record<string, string>;
}

/** An OpenAI-format client (OpenAI, Custom, Azure AI Foundry). */
export function openAIClient(ctx: ProviderContext, options: SdkClientOptions): OpenAI {
  return new OpenAI({
    // The SDK insists on a key; without one the Authorization header is removed below.
    apiKey: options.apiKey ?? "unauthenticated",
    adminAPIKey: null,
    organization: null,
    project: null,
    baseURL: options.baseURL,
    maxRetries: 0,
    timeout: ctx.timeoutMs,
    logLevel: "off",
    // Fixed hosts go through the guard's refusals too; user endpoints come with their pinned fetch.
    fetch: options.fetch ?? ctx.egress.fetch,
    defaultHeaders: {
      ...options.defaultHeaders,
      ...(options.apiKey === undefined ? { Authorization: null } : {}),
    },
    ...(options.defaultQuery ? { defaultQuery: options.defaultQuery } : {}),
  } as ConstructorParameters<typeof OpenAI>[0]);
}

/** The fetch a shared client's requests go through inside {@link throughFetch} (a check's capturing fetch). */
const checkFetch = new AsyncLocalStorage<typeof fetch>();
/** Shared clients per pinned pool (its fetch), then per base URL; a pool evicted from the guard takes its own. */
const sharedClients = new WeakMap<typeof fetch, Map<string, OpenAI>>();
/** Base URLs kept per pool: a host serves a handful; a pool asked for more starts over. */
const MAX_CLIENTS_PER_POOL = 16;

/**
 * An OpenAI-format client for `baseURL` over a pinned pool's `poolFetch`, made once per pool and base URL: the
 * SDK's constructor builds its whole resource tree (about 3 % of the operator's CPU at scale when made per check).
 * It holds no credential: each request carries its own with {@link credentialHeaders}, and runs inside
 * {@link throughFetch} to go through the check's own fetch (else through `poolFetch`).
 */
export function sharedOpenAIClient(ctx: ProviderContext, baseURL: string, poolFetch: typeof fetch): OpenAI {
  let clients = sharedClients.get(poolFetch);
  if (!clients) {
    clients = new Map();
    sharedClients.set(poolFetch, clients);
  }
  let client = clients.get(baseURL);
  if (!client) {
    if (clients.size >= MAX_CLIENTS_PER_POOL) clients.clear();
    const routed = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      (checkFetch.getStore() ?? poolFetch)(input, init)) as typeof fetch;
    client = openAIClient(ctx, { baseURL, apiKey: undefined, fetch: routed });
    clients.set(baseURL, client);
  }
  return client;
}

/** Runs `work` with every shared client's request going through `fetchForCheck`. */
export function throughFetch<T>(fetchForCheck: typeof fetch, work: () => Promise<T>): Promise<T> {
  return checkFetch.run(fetchForCheck, work);
}

/** A request's Authorization: `Bearer` with the credential, or none at all (null removes the SDK's). */
export function credentialHeaders(credential: string | undefined): { Authorization: string | null } {
  return { Authorization: credential === undefined ? null : `Bearer ${credential}` };
}

/** An Azure OpenAI client: `api-key` header, `{endpoint}/openai/deployments/{deployment}/...?api-version=`. */
export function azureOpenAIClient(
  ctx: ProviderContext,
  options: { endpoint: string; apiKey: string; deployment: string; apiVersion: string; fetch?: typeof fetch },
): AzureOpenAI {
  return new AzureOpenAI({
    endpoint: options.endpoint,
    apiKey: options.apiKey,
    apiVersion: options.apiVersion,
    deployment: options.deployment,
    baseURL: null, // null, not undefined: undefined would read OPENAI_BASE_URL
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: ctx.timeoutMs,
    logLevel: "off",
    fetch: options.fetch ?? ctx.egress.fetch,
  });
}

/** Per-request options: the combined signal (caller's abort + time limit), no retries. */
export function sdkRequestOptions(ctx: ProviderContext): {
  signal: AbortSignal;
  timeout: number;
  maxRetries: 0;
} {
  return { signal: callSignal(ctx), timeout: ctx.timeoutMs, maxRetries: 0 };
}
