// The app's wire format for model-provider connections, tokens and the current user, as zod schemas: request
// schemas carry the documented limits; answer schemas are tolerant of fields the app may add.
import { z } from "zod";

/** Providers the app knows (request enum). Answers accept any string, so a new provider can't break a list. */
export const APP_PROVIDERS = [
  "OpenAI",
  "AzureOpenAI",
  "AzureAIFoundry",
  "VertexAI",
  "Gemini",
  "Anthropic",
  "Custom",
] as const;
export const AppProvider = z.enum(APP_PROVIDERS);
export type AppProvider = z.infer<typeof AppProvider>;

export const APP_SCOPES = ["Organization", "User", "Model"] as const;
export const AppScope = z.enum(APP_SCOPES);
export type AppScope = z.infer<typeof AppScope>;

/** Fields the app never returns: an operator remembers a fingerprint of what it pushed instead. */
export const SECRET_FIELDS = ["api_key", "auth_token", "google_application_credentials"] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

const text = (max?: number) => (max === undefined ? z.string() : z.string().max(max)).nullable().optional();

/**
 * The request fields of create, update (PATCH) and overwrite (PUT), with the documented limits. All are
 * optional; what a provider needs is the caller's business. The client sends what it is given (the app is the
 * judge); callers may parse with this to fail early. Unknown keys are rejected (the app would silently ignore
 * them, hiding a typo).
 */
export const AppConnectionFields = z
  .object({
    provider: AppProvider.optional(),
    scope: AppScope.optional(),
    api_key: text(),
    auth_token: text(),
    deployment_name: text(512),
    endpoint: text(512),
    google_application_credentials: text(),
    google_project_id: text(255),
    google_location: text(255),
    cached_available_models: text(4096),
    is_internal: z.boolean().nullable().optional(),
    budget_alert_threshold: z.number().nullable().optional(),
  })
  .strict();
export type AppConnectionFields = z.infer<typeof AppConnectionFields>;

/** A user as `created_by` shows it. */
export const AppUserSummary = z.object({
  id: z.number().int(),
  email: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
});
export type AppUserSummary = z.infer<typeof AppUserSummary>;

/** A connection as the app answers it: non-secret fields only. */
export const AppConnection = z.object({
  id: z.number().int(),
  organization: z.number().int().nullish(),
  provider: z.string(),
  scope: z.string(),
  deployment_name: z.string().nullish(),
  endpoint: z.string().nullish(),
  google_project_id: z.string().nullish(),
  google_location: z.string().nullish(),
  cached_available_models: z.string().nullish(),
  is_internal: z.boolean().nullish(),
  budget_alert_threshold: z.number().nullish(),
  created_by: AppUserSummary.nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  model_params: z.record(z.string(), z.unknown()).nullish(),
  budget_limit: z.number().nullish(),
  budget_last_reset_date: z.string().nullish(),
  budget_reset_period: z.string().nullish(),
  budget_total_spent: z.number().nullish(),
});
export type AppConnection = z.infer<typeof AppConnection>;

export const AppConnectionList = z.array(AppConnection);

/** GET /api/current-user/whoami: the token's owner and the organization every call acts on. */
export const AppWhoami = z.object({
  id: z.number().int(),
  email: z.string(),
  username: z.string(),
  active_organization: z.number().int().nullable(),
});
export type AppWhoami = z.infer<typeof AppWhoami>;

/** provider-choices: documented as "the list of provider names"; the SDK wraps it as {provider_choices}. */
export const AppProviderChoices = z
  .union([z.array(z.string()), z.object({ provider_choices: z.array(z.string()) })])
  .transform((answer) => (Array.isArray(answer) ? answer : answer.provider_choices));

/** POST /api/token/refresh/ answer. */
export const AppAccessToken = z.object({ access: z.string().min(1) });

/** The body of an error answer: DRF's {detail} or field → messages (either may be absent). */
export const AppErrorBody = z.union([
  z.object({ detail: z.string() }).loose(),
  z.record(z.string(), z.union([z.array(z.string()), z.string()])),
]);
