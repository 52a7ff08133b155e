// The official `openai` SDK configured for a check: no retries (the reconciler backs off), the call's
// time limit and cancellation, and nothing read from OPENAI_* environment variables.
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
