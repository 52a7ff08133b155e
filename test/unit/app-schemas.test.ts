// The app's answers across versions: strict on the fields the operator decides from, lenient on the rest, so an
// app upgrade that adds or retypes an unused field never halts every call.
import { describe, expect, it } from "vitest";
import {
  AppConnection,
  AppWhoami,
  isOffLimits,
  offLimitsReason,
  roleManagesConnections,
} from "../../operator/app/index.ts";

/** What the operator reads from a connection, after parsing. */
function relied(answer: unknown) {
  const c = AppConnection.parse(answer);
  return {
    id: c.id,
    provider: c.provider,
    scope: c.scope,
    is_internal: c.is_internal,
    deployment_name: c.deployment_name,
    endpoint: c.endpoint,
    cached_available_models: c.cached_available_models,
    updated_at: c.updated_at,
    createdBy: c.created_by?.id,
  };
}

const base = { id: 5, provider: "OpenAI", scope: "Organization", updated_at: "2026-11-20T10:00:00Z" };
const expected: ReturnType<typeof relied> = {
  id: 5,
  provider: "OpenAI",
  scope: "Organization",
  is_internal: undefined,
  deployment_name: undefined,
  endpoint: undefined,
  cached_available_models: undefined,
  updated_at: "2026-11-20T10:00:00Z",
  createdBy: undefined,
};

describe("a connection answer", () => {
  it.each<[string, Record<string, unknown>, Partial<typeof expected>]>([
    ["the documented shape", { model_params: {}, created_by: { id: 7, email: "a@b" } }, { createdBy: 7 }],
    ["model_params as a string (older SDK versions)", { model_params: '{"temperature": 0}' }, {}],
    ["model_params as an object (newer SDK versions)", { model_params: { type: "object" } }, {}],
    ["model_params as a list, a number, null or absent", { model_params: [1, 2] }, {}],
    ["model_params as a number", { model_params: 3 }, {}],
    ["model_params null", { model_params: null }, {}],
    [
      "created_by with the SDK's required username",
      { created_by: { id: 7, username: "ops" } },
      { createdBy: 7 },
    ],
    ["created_by as a bare user id (older serializers)", { created_by: 7 }, { createdBy: 7 }],
    ["created_by without an id", { created_by: { username: "ops" } }, { createdBy: undefined }],
    [
      "budget fields as DRF decimals (strings)",
      { budget_limit: "100.00", budget_total_spent: "1.50", budget_alert_threshold: "0.8" },
      {},
    ],
    ["a budget period the operator has never heard of", { budget_reset_period: "Weekly" }, {}],
    ["a budget date that is not a string", { budget_last_reset_date: 1_700_000_000 }, {}],
    ["an organization that is an object", { organization: { id: 3, title: "acme" } }, {}],
    ["created_at in another format", { created_at: 1_700_000_000 }, {}],
    ["a field a later app adds", { prompt_budget: { currency: "USD" }, is_default: true }, {}],
    [
      "cached_available_models as the documented string",
      { cached_available_models: "gpt-4o,gpt-4.1" },
      { cached_available_models: "gpt-4o,gpt-4.1" },
    ],
    [
      "cached_available_models as a list of names",
      { cached_available_models: ["gpt-4o", "gpt-4.1"] },
      { cached_available_models: "gpt-4o,gpt-4.1" },
    ],
    ["is_internal true", { is_internal: true }, { is_internal: true }],
    [
      "a per-model record",
      { scope: "Model", deployment_name: "gpt4o", endpoint: "https://a.openai.azure.com/" },
      { scope: "Model", deployment_name: "gpt4o", endpoint: "https://a.openai.azure.com/" },
    ],
    ["a provider added after this operator", { provider: "Mistral" }, { provider: "Mistral" }],
  ])("parses %s", (_case, extra, differs) => {
    expect(relied({ ...base, ...extra })).toEqual({ ...expected, ...differs });
  });

  it.each<[string, Record<string, unknown>]>([
    ["no id", { id: undefined }],
    ["an id that is a string", { id: "5" }],
    ["no provider", { provider: undefined }],
    ["a scope that is not a string", { scope: 1 }],
    ["is_internal that is not a boolean", { is_internal: "yes" }],
    ["updated_at that is not a string", { updated_at: 1_700_000_000 }],
    ["a deployment name that is not a string", { deployment_name: 42 }],
    ["a created_by id that is not a number", { created_by: { id: "7" } }],
  ])("rejects %s (the operator decides from it)", (_case, extra) => {
    expect(AppConnection.safeParse({ ...base, ...extra }).success).toBe(false);
  });
});

describe("a whoami answer", () => {
  it.each<[string, Record<string, unknown>, { role?: string; active?: number | null }]>([
    ["an older app's (no organization_membership)", { email: "a@b", username: "a" }, { active: 3 }],
    [
      "a newer app's, with the role as the SDK spells it",
      { organization_membership: { role: "OW", organization_id: 3, active: true, flex: null } },
      { role: "OW", active: 3 },
    ],
    [
      "an organization_membership of another shape (ignored: the 403 path decides)",
      { organization_membership: { role: 7 } },
      { active: 3 },
    ],
    [
      "one without email and username (optional in the SDK)",
      { email: undefined, username: undefined },
      { active: 3 },
    ],
    ["one without an active organization", { active_organization: undefined }, { active: undefined }],
    ["one whose user has no active organization", { active_organization: null }, { active: null }],
    [
      "one with fields a later app adds",
      { lse_fields: { onboarding: true }, permissions: ["x"] },
      { active: 3 },
    ],
  ])("parses %s", (_case, extra, want) => {
    const me = AppWhoami.parse({ id: 7, email: "a@b", username: "a", active_organization: 3, ...extra });
    expect({ id: me.id, role: me.organization_membership?.role, active: me.active_organization }).toEqual({
      id: 7,
      ...want,
    });
  });

  it("rejects one without the user's id (the operator compares records' authors with it)", () => {
    expect(AppWhoami.safeParse({ username: "a", active_organization: 3 }).success).toBe(false);
  });
});

describe("roleManagesConnections", () => {
  it.each([
    ["OW", "manages"],
    ["AD", "manages"],
    ["owner", "manages"],
    ["Administrator", "manages"],
    ["MA", "cannot"],
    ["RE", "cannot"],
    ["AN", "cannot"],
    ["DI", "cannot"],
    ["NO", "cannot"],
    ["VO", "cannot"],
    ["manager", "cannot"],
    ["SA", "unknown"],
    ["", "unknown"],
  ])("%s → %s", (role, verdict) => {
    expect(roleManagesConnections(role)).toBe(verdict);
  });
});

describe("isOffLimits", () => {
  it.each([
    [{ is_internal: true, scope: "Organization" }, true, "internal"],
    [{ is_internal: true, scope: "Model" }, true, "internal"],
    [{ is_internal: false, scope: "User" }, true, "scope User"],
    [{ scope: "User" }, true, "scope User"],
    [{ is_internal: false, scope: "Organization" }, false, undefined],
    [{ is_internal: null, scope: "Model" }, false, undefined],
    [{ scope: "Organization" }, false, undefined],
  ])("%o → %s", (record, offLimits, why) => {
    expect(isOffLimits(record)).toBe(offLimits);
    if (why) expect(offLimitsReason(record)).toContain(why);
    else expect(offLimitsReason(record)).toBeUndefined();
  });
});
