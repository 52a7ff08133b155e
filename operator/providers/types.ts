// The shapes a model check speaks in: what the reconciler asks a provider module and what it gets back. The one
// definition of each: reconcile's port (checkModels) speaks these too.
import type { Provider } from "../../crds/providerconnection.ts";
import type { Catalogue } from "./catalogue.ts";
import type { EgressGuard } from "./egress.ts";
import type { ListingCache } from "./listing-cache.ts";

/** How a check ended. Every provider answer maps to one of these; only the caller's abort throws. */
export const OUTCOMES = [
  "Valid",
  "InvalidCredentials",
  "RateLimited",
  "Unavailable",
  "NetworkRestricted",
  "NotOpenAICompatible",
  "JSONModeUnsupported",
  "EgressDenied",
] as const;
export type ModelCheckOutcome = (typeof OUTCOMES)[number];

/** Why one model is not available (CamelCase, written to status.models[].reason). */
export const MODEL_REASON = {
  /** The credential's model listing does not contain it. */
  NotListed: "NotListed",
  /** The app does not support it (not in the catalogue); the user expected it anyway. */
  NotSupportedByApp: "NotSupportedByApp",
  /** Vertex AI: the model is unknown in the chosen location (404). */
  NotInLocation: "NotInLocation",
  /** Vertex AI: the service account may not use it in the project (403). */
  PermissionDenied: "PermissionDenied",
  /** Azure OpenAI / Foundry / Custom: the deployment (or model name) does not answer (404). */
  DeploymentNotFound: "DeploymentNotFound",
  /** Azure OpenAI: the deployment exists but is not a chat model (400 OperationNotSupported). */
  NotAChatModel: "NotAChatModel",
} as const;
export type ModelReason = (typeof MODEL_REASON)[keyof typeof MODEL_REASON];

/** One model and whether the credential can use it; shaped like status.models[]. */
export interface ModelAvailability {
  name: string;
  available: boolean;
  reason?: ModelReason;
}

/** The result of `checkModels`. `message` never holds a secret or a fragment of one. */
export interface ModelCheck {
  outcome: ModelCheckOutcome;
  /** One human sentence or two; provider text is scrubbed of credentials and cut to a few hundred characters. */
  message: string;
  /** Set for RateLimited (and a 503 that said so): how long the provider asked us to wait. */
  retryAfterMs?: number;
  /**
   * Valid (and, for Custom, NotOpenAICompatible/JSONModeUnsupported): for list providers (OpenAI, Gemini, VertexAI, Anthropic) the catalogue's models for the provider
   * plus any expected model, each marked available when the credential reaches it AND the app supports it;
   * for AzureOpenAI, AzureAIFoundry and Custom the one deployment (or custom model name). Empty otherwise.
   */
  models: ModelAvailability[];
  /**
   * Expected models (spec.models) that are not available; a subset of the input, in its order. It knows what
   * `models` cannot say (an Azure deployment meets the expected model it serves). Every provider module sets it;
   * absent (a stand-in check in tests): the expected ones not available in `models`.
   */
  expectedMissing?: string[];
  /** AzureOpenAI / AzureAIFoundry: the model behind the deployment, as named in the answer's `model`. */
  servedModel?: string;
  /** Custom only: GET {endpoint}/models answered an OpenAI-format list. */
  openAICompatible?: boolean;
  /** Custom only: a chat completion with response_format json_object answered content that parses as JSON. */
  jsonMode?: boolean;
}

/** The credential values read from the connection's Secret(s). Never logged, never put in a message. */
export interface ProviderCredentials {
  apiKey?: string;
  authToken?: string;
  /** VertexAI: the service-account JSON file's content. */
  credentialsJson?: string;
}

/** What to check: the provider, its credential and the non-secret fields of its spec block. */
export interface ModelCheckRequest {
  provider: Provider;
  credentials: ProviderCredentials;
  /** AzureOpenAI, AzureAIFoundry, Custom. */
  endpoint?: string;
  /** AzureOpenAI, AzureAIFoundry. */
  deployment?: string;
  /** VertexAI: @default the credentials' project_id */
  projectId?: string;
  /** VertexAI: @default us-central1 */
  location?: string;
  /** Custom: the model name the server answers to. */
  name?: string;
  /** spec.models: what the users expect. */
  expectedModels?: string[];
}

/**
 * Where each provider's API lives, including its version segment. Defaults are the public services;
 * tests and the local sandbox point them at local/providers stand-ins.
 */
export interface ProviderBaseUrls {
  /** @default https://api.openai.com/v1 */
  openai?: string;
  /** @default https://generativelanguage.googleapis.com/v1beta */
  gemini?: string;
  /** @default https://api.anthropic.com/v1 */
  anthropic?: string;
  /** @default (location) => https://{location}-aiplatform.googleapis.com/v1 (aiplatform.googleapis.com for "global") */
  vertex?: (location: string) => string;
  /** Rewrites a spec's Azure OpenAI endpoint. @default the endpoint itself */
  azureOpenAI?: (endpoint: string) => string;
  /** Rewrites a spec's Azure AI Foundry endpoint. @default the endpoint itself */
  azureAIFoundry?: (endpoint: string) => string;
  /** Rewrites a spec's Custom endpoint (the local sandbox serves the example's). @default the endpoint itself */
  custom?: (endpoint: string) => string;
}

/** How to check: the catalogue, cancellation, time limits and the egress guard. */
export interface ModelCheckOptions {
  catalogue: Catalogue;
  /** Aborting it rejects the pending check with the signal's reason (the one case `checkModels` throws). */
  signal?: AbortSignal;
  /** Limit for each HTTP call (token exchange, list page, probe). @default 10000 */
  timeoutMs?: number;
  baseUrls?: ProviderBaseUrls;
  /**
   * Guards user-supplied endpoints. Custom endpoints pass its allow list and default refusals; Azure and
   * Foundry endpoints and a non-Google Vertex token_uri pass its default refusals only.
   * @default createEgressGuard({allow: []})
   */
  egress?: EgressGuard;
  /** Clock for Retry-After dates. @default Date.now */
  now?: () => number;
  /** Recent model listings shared between checks (Custom servers); none: every check lists. */
  listings?: ListingCache;
}

/** What every provider module receives: the request plus resolved options. */
export interface ProviderContext {
  request: ModelCheckRequest;
  catalogue: Catalogue;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  baseUrls: ProviderBaseUrls;
  egress: EgressGuard;
  now: () => number;
  /** Values to scrub from any message: the keys and anything derived (a private key, an access token). */
  secrets: string[];
  listings?: ListingCache;
}
