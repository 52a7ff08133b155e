// The app's wire format for model-provider connections, tokens and the current user, as zod schemas: request
// schemas carry the documented limits; answer schemas are strict on what the operator reads, lenient elsewhere.
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

/**
 * A field the operator does not read: any value is accepted, and one of an unexpected type becomes undefined
 * instead of failing the whole answer (an app upgrade that retypes an unused field must not halt every call).
 */
const unread = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined);

/**
 * A user as `created_by` shows it. The operator reads only `id` (whose record is it?); the SDK's summary also
 * carries a required `username`, and older apps answer a bare user id, normalized here to `{id}`.
 */
export const AppUserSummary = z.union([
  z
    .object({
      id: z.number().int().nullish(),
      username: unread(z.string()),
      email: unread(z.string()),
      first_name: unread(z.string()),
      last_name: unread(z.string()),
    })
    .loose(),
  z
    .number()
    .int()
    .transform((id) => ({ id })),
]);
export type AppUserSummary = z.infer<typeof AppUserSummary>;

/**
 * `cached_available_models`: documented as a string ("the list of available models", no format given); an app
 * that answers a list of names is read as the comma-joined string the operator writes.
 */
const CachedModels = z
  .union([z.string(), z.array(z.string()).transform((names) => names.join(","))])
  .nullish();

/**
 * A connection as the app answers it: non-secret fields only.
 *
 * Strict where the operator decides something from a field (id, provider, scope, is_internal, the per-model
 * fields it compares, updated_at, created_by's id); lenient everywhere else (model_params, budget fields,
 * timestamps it does not compare, fields a later app adds): those accept any value.
 */
export const AppConnection = z
  .object({
    id: z.number().int(),
    provider: z.string(),
    scope: z.string(),
    is_internal: z.boolean().nullish(),
    deployment_name: z.string().nullish(),
    endpoint: z.string().nullish(),
    google_project_id: z.string().nullish(),
    google_location: z.string().nullish(),
    cached_available_models: CachedModels,
    updated_at: z.string().nullish(),
    created_by: AppUserSummary.nullish(),
    organization: unread(z.number().int()),
    created_at: unread(z.string()),
    // A string in older SDK versions, an object in newer ones; never read.
    model_params: z.unknown().optional(),
    budget_alert_threshold: unread(z.union([z.number(), z.string()])),
    budget_limit: unread(z.union([z.number(), z.string()])),
    budget_last_reset_date: unread(z.string()),
    budget_reset_period: unread(z.string()),
    budget_total_spent: unread(z.union([z.number(), z.string()])),
  })
  .loose();
export type AppConnection = z.infer<typeof AppConnection>;

export const AppConnectionList = z.array(AppConnection);

/** The roles that may manage connections, as the SDK spells them (`OW`, `AD`) and in words. */
const MANAGING_ROLES: ReadonlySet<string> = new Set(["ow", "owner", "ad", "administrator", "admin"]);
/** The roles that may not (manager, reviewer, annotator, deactivated, not activated, view only). */
const OTHER_ROLES: ReadonlySet<string> = new Set([
  "ma",
  "manager",
  "re",
  "reviewer",
  "an",
  "annotator",
  "di",
  "deactivated",
  "no",
  "not_activated",
  "not activated",
  "vo",
  "view_only",
  "view only",
]);

/**
 * What a whoami role says about managing connections: "manages" (owner, administrator), "cannot", or
 * "unknown" (a role this operator does not know: the app's own 403 decides).
 */
export function roleManagesConnections(role: string): "manages" | "cannot" | "unknown" {
  const key = role.trim().toLowerCase();
  if (MANAGING_ROLES.has(key)) return "manages";
  if (OTHER_ROLES.has(key)) return "cannot";
  return "unknown";
}

/** whoami's `organization_membership`: the token's role in its active organization (newer apps only). */
export const AppOrganizationMembership = z
  .object({ role: z.string(), organization_id: z.number().int().nullish() })
  .loose();
export type AppOrganizationMembership = z.infer<typeof AppOrganizationMembership>;

/**
 * GET /api/current-user/whoami: the token's owner and the organization every call acts on. `id` and
 * `active_organization` are relied on; `organization_membership` is read when it has the documented shape
 * (else undefined: the role is then learnt from a 403); the rest is never read.
 */
export const AppWhoami = z
  .object({
    id: z.number().int(),
    active_organization: z.number().int().nullish(),
    organization_membership: AppOrganizationMembership.nullish().catch(undefined),
    email: unread(z.string()),
    username: unread(z.string()),
  })
  .loose();
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
