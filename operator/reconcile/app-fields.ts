// What the app's record of a connection should hold, and how a record differs from it.
import { type Provider, type ProviderConnectionSpec, scopeOf } from "../../crds/index.ts";
import { connectionTarget } from "./target.ts";

/** The non-secret fields modelkeys manages on an app record (the app returns these). */
export interface ManagedFields {
  provider: Provider;
  scope: "Organization" | "Model";
  deployment_name: string | null;
  endpoint: string | null;
  google_project_id: string | null;
  google_location: string | null;
  cached_available_models?: string | null;
}
export const MANAGED_FIELD_NAMES = [
  "provider",
  "scope",
  "deployment_name",
  "endpoint",
  "google_project_id",
  "google_location",
  "cached_available_models",
] as const satisfies readonly (keyof ManagedFields)[];

/** The part of an app record that reconciling reads. */
export interface AppRecordView extends Partial<Omit<ManagedFields, "provider" | "scope">> {
  id: number;
  provider?: string | null;
  scope?: string | null;
  /** True on the app's internal records: never the operator's (see operator/app/off-limits.ts). */
  is_internal?: boolean | null;
  created_by?: { id?: number | null } | null;
  updated_at?: string | null;
}

/** The app's limit on cached_available_models. */
export const CACHED_MODELS_LIMIT = 4096;

/** Comma-joined model names, cut at a whole name so the app's 4096-character limit holds. */
export function cachedAvailableModels(names: readonly string[]): string {
  let text = "";
  for (const name of names) {
    const next = text === "" ? name : `${text},${name}`;
    if (next.length > CACHED_MODELS_LIMIT) break;
    text = next;
  }
  return text;
}

/** The desired non-secret fields; `availableModels` is omitted until a model check has a result. */
export function desiredFields(
  spec: ProviderConnectionSpec,
  provisioned?: { deployment: string; endpoint: string },
  availableModels?: readonly string[],
): ManagedFields {
  const target = connectionTarget(spec, provisioned);
  const fields: ManagedFields = {
    provider: spec.provider,
    scope: scopeOf(spec.provider),
    deployment_name: target.deployment ?? null,
    endpoint: target.endpoint ?? null,
    google_project_id: target.projectId ?? null,
    google_location: target.location ?? null,
  };
  return availableModels === undefined
    ? fields
    : { ...fields, cached_available_models: cachedAvailableModels(availableModels) };
}

/** The managed fields whose value in the record differs from the desired one. */
export function fieldDrift(desired: ManagedFields, record: AppRecordView): Partial<ManagedFields> {
  const drift: Record<string, unknown> = {};
  for (const name of MANAGED_FIELD_NAMES) {
    if (!(name in desired)) continue;
    const want = desired[name] ?? null;
    const have = (record as unknown as Record<string, unknown>)[name] ?? null;
    if (want !== have) drift[name] = want;
  }
  return drift as Partial<ManagedFields>;
}

/** Whether an app record is the same connection: same provider, and for per-model scope the same deployment. */
export function recordMatches(desired: ManagedFields, record: AppRecordView): boolean {
  if (record.provider !== desired.provider) return false;
  if (desired.scope === "Organization") return true;
  return (
    record.deployment_name === desired.deployment_name && sameEndpoint(record.endpoint, desired.endpoint)
  );
}

/**
 * Where a record or the desired fields point (provider, deployment, endpoint) as one string: a record that
 * {@link recordMatches} per-model desired fields has the same key, so a listing can find the candidates by it.
 */
export function targetKey(fields: {
  provider?: string | null;
  deployment_name?: string | null;
  endpoint?: string | null;
}): string {
  return JSON.stringify([
    fields.provider ?? null,
    fields.deployment_name ?? null,
    normEndpoint(fields.endpoint),
  ]);
}

function sameEndpoint(a: string | null | undefined, b: string | null | undefined): boolean {
  return normEndpoint(a) === normEndpoint(b);
}

const normEndpoint = (s: string | null | undefined) => (s ?? "").trim().replace(/\/+$/, "").toLowerCase();
