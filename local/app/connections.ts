// The contract server's model-provider connection records: DRF-style validation of request fields and the
// serialized answer (secret fields stored, never returned).

/** Providers the app accepts, in the order provider-choices lists them. */
export const PROVIDER_CHOICES = [
  "OpenAI",
  "AzureOpenAI",
  "AzureAIFoundry",
  "VertexAI",
  "Gemini",
  "Anthropic",
  "Custom",
] as const;
export const SCOPE_CHOICES = ["Organization", "User", "Model"] as const;

/** Write-only fields: stored, never returned. */
export const SECRET_FIELDS = ["api_key", "auth_token", "google_application_credentials"] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

type FieldRule =
  | { type: "choice"; choices: readonly string[]; nullable: false }
  | { type: "string"; maxLength?: number; nullable: true }
  | { type: "boolean"; nullable: true }
  | { type: "number"; nullable: true };

/** Every writable field with its rule; anything else in a request body is ignored, as DRF does. */
export const FIELD_RULES = {
  provider: { type: "choice", choices: PROVIDER_CHOICES, nullable: false },
  scope: { type: "choice", choices: SCOPE_CHOICES, nullable: false },
  api_key: { type: "string", nullable: true },
  auth_token: { type: "string", nullable: true },
  deployment_name: { type: "string", maxLength: 512, nullable: true },
  endpoint: { type: "string", maxLength: 512, nullable: true },
  google_application_credentials: { type: "string", nullable: true },
  google_project_id: { type: "string", maxLength: 255, nullable: true },
  google_location: { type: "string", maxLength: 255, nullable: true },
  cached_available_models: { type: "string", maxLength: 4096, nullable: true },
  is_internal: { type: "boolean", nullable: true },
  budget_alert_threshold: { type: "number", nullable: true },
} as const satisfies Record<string, FieldRule>;
export type FieldName = keyof typeof FIELD_RULES;
const FIELD_NAMES = Object.keys(FIELD_RULES) as FieldName[];

/** Field values as stored (secrets included). */
export type ConnectionFields = {
  provider: string;
  scope: string;
  is_internal: boolean | null;
  budget_alert_threshold: number | null;
} & Record<
  Exclude<FieldName, "provider" | "scope" | "is_internal" | "budget_alert_threshold">,
  string | null
>;

/** The model's defaults for a field a create request leaves out. */
export const FIELD_DEFAULTS: ConnectionFields = {
  provider: "OpenAI",
  scope: "Organization",
  api_key: null,
  auth_token: null,
  deployment_name: null,
  endpoint: null,
  google_application_credentials: null,
  google_project_id: null,
  google_location: null,
  cached_available_models: null,
  is_internal: false,
  budget_alert_threshold: null,
};

/** DRF's answer to a failed validation: field → messages. */
export type FieldErrors = Record<string, string[]>;

export type Validation = { ok: true; fields: Partial<ConnectionFields> } | { ok: false; errors: FieldErrors };

function checkField(rule: FieldRule, value: unknown): string | undefined {
  if (value === null) return rule.nullable ? undefined : "This field may not be null.";
  switch (rule.type) {
    case "choice":
      return typeof value === "string" && rule.choices.includes(value)
        ? undefined
        : `"${String(value)}" is not a valid choice.`;
    case "string":
      if (typeof value !== "string") return "Not a valid string.";
      if (rule.maxLength !== undefined && value.length > rule.maxLength) {
        return `Ensure this field has no more than ${rule.maxLength} characters.`;
      }
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : "Must be a valid boolean.";
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? undefined : "A valid number is required.";
  }
}

/**
 * Validates a request body the way the app's serializer does: known fields are checked, unknown ones are
 * ignored, every field is optional (create fills in the model defaults).
 */
export function validateFields(body: unknown): Validation {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const got = Array.isArray(body) ? "list" : body === null ? "NoneType" : typeof body;
    return {
      ok: false,
      errors: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${got}.`] },
    };
  }
  const input = body as Record<string, unknown>;
  const errors: FieldErrors = {};
  const fields: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) {
    if (!(name in input)) continue;
    const message = checkField(FIELD_RULES[name], input[name]);
    if (message) errors[name] = [message];
    else fields[name] = input[name];
  }
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, fields: fields as Partial<ConnectionFields> };
}

/** A user as a connection's `created_by` shows it. */
export interface UserSummary {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
  avatar: string | null;
}

/** A stored connection: what the app's database holds. */
export interface ConnectionRecord {
  id: number;
  organization: number;
  created_by: UserSummary;
  created_at: string;
  updated_at: string;
  fields: ConnectionFields;
}

/** The connection as the API answers it: every non-secret field, never a secret. */
export function serializeConnection(record: ConnectionRecord): Record<string, unknown> {
  const visible: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) {
    if ((SECRET_FIELDS as readonly string[]).includes(name)) continue;
    visible[name] = record.fields[name];
  }
  return {
    id: record.id,
    ...visible,
    organization: record.organization,
    created_by: record.created_by,
    created_at: record.created_at,
    updated_at: record.updated_at,
    model_params: {},
    budget_limit: null,
    budget_last_reset_date: null,
    budget_reset_period: null,
    budget_total_spent: 0,
  };
}

/** Fields `?ordering=` may name: every scalar field of the answer. */
const ORDERABLE_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "organization",
  "created_at",
  "updated_at",
  "budget_limit",
  "budget_last_reset_date",
  "budget_reset_period",
  "budget_total_spent",
  ...FIELD_NAMES.filter((name) => !(SECRET_FIELDS as readonly string[]).includes(name)),
]);

function compareValues(a: unknown, b: unknown): number {
  // PostgreSQL sorts NULL after every value in ascending order.
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : 1;
}

/**
 * Orders serialized connections by DRF OrderingFilter's `?ordering=a,-b` rules: unknown or non-sortable terms
 * are dropped; with none left, the default order (id) stays.
 */
export function orderConnections(
  items: Record<string, unknown>[],
  ordering: string | undefined,
): Record<string, unknown>[] {
  const base = [...items].sort((x, y) => compareValues(x.id, y.id));
  if (!ordering) return base;
  const terms = ordering
    .split(",")
    .map((term) => term.trim())
    .map((term) => ({ desc: term.startsWith("-"), field: term.replace(/^-/, "") }))
    .filter(({ field }) => ORDERABLE_FIELDS.has(field));
  return base.sort((x, y) => {
    for (const { desc, field } of terms) {
      const order = compareValues(x[field], y[field]);
      if (order !== 0) return desc ? -order : order;
    }
    return 0;
  });
}
