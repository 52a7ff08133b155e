// The audit: a pure function from ProviderConnections and Organizations (as the API server returns them) to the
// report that `kubectl modelkeys audit` prints, and the zod schema of its JSON form.
import { z } from "zod";
import {
  durationToMs,
  keyAgeMs,
  keyRotatedTime,
  maxKeyAge,
  modelCounts,
  type Organization,
  type ProviderConnection,
  readiness,
} from "../../crds/index.ts";

/** The version of the JSON report's shape; a breaking change bumps it. */
export const AUDIT_REPORT_VERSION = "audit.modelkeys.dev/v1";

/** Why a row is flagged. */
export const FindingKind = z.enum([
  "NotReady",
  "KeyPastMaxAge",
  "ChangedInApp",
  "OrganizationNotReady",
  "UnmanagedRecords",
  "NotListed",
]);
export type FindingKind = z.infer<typeof FindingKind>;

/** A finding: its kind and a sentence for people. */
export const Finding = z
  .object({ kind: FindingKind, message: z.string() })
  .strict()
  .meta({ description: "Something an auditor should look at; any finding makes the exit code 1." });
export type Finding = z.infer<typeof Finding>;

const ReadyStatus = z.enum(["True", "False", "Unknown"]);

/** One ProviderConnection in the report: its key, models, readiness and findings (never a secret). */
export const ConnectionRow = z
  .object({
    namespace: z.string(),
    name: z.string(),
    provider: z.string(),
    organization: z.string().meta({ description: "The Organization object (same namespace)." }),
    scope: z.string().optional().meta({ description: "Organization or Model (from status)." }),
    appConnectionId: z.number().int().optional(),
    keyFingerprint: z
      .string()
      .optional()
      .meta({ description: "sha256: and 12 hex characters; never the key." }),
    keyRotatedTime: z.string().optional().meta({ description: "Last rotation, or first sync (RFC 3339)." }),
    keyAgeSeconds: z.number().int().optional(),
    maxKeyAge: z
      .string()
      .optional()
      .meta({ description: "The max age applied (flag, spec or Organization)." }),
    modelsWorking: z.number().int().optional(),
    modelsExpected: z.number().int().optional(),
    ready: ReadyStatus,
    reason: z.string(),
    message: z.string(),
    findings: z.array(Finding),
  })
  .strict();
export type ConnectionRow = z.infer<typeof ConnectionRow>;

/** One Organization in the report: readiness and what the app holds (from its status.app). */
export const OrganizationRow = z
  .object({
    namespace: z.string(),
    name: z.string(),
    ready: ReadyStatus,
    reason: z.string(),
    reportedTime: z.string().optional().meta({ description: "When the app listing found these figures." }),
    managed: z.number().int().optional(),
    unmanaged: z.number().int().optional(),
    changed: z.number().int().optional(),
    offLimits: z
      .number()
      .int()
      .optional()
      .meta({ description: "Internal and User-scope records (not audited)." }),
    unmanagedRecords: z.array(
      z
        .object({
          id: z.number().int(),
          provider: z.string(),
          scope: z.string(),
          deployment: z.string().optional(),
        })
        .strict(),
    ),
    changedRecords: z.array(z.object({ id: z.number().int(), connection: z.string() }).strict()),
    findings: z.array(Finding),
  })
  .strict();
export type OrganizationRow = z.infer<typeof OrganizationRow>;

/** The JSON (and YAML) output of `kubectl modelkeys audit`. */
export const AuditReport = z
  .object({
    version: z.literal(AUDIT_REPORT_VERSION),
    generatedTime: z.string().meta({ description: "When the audit ran (RFC 3339)." }),
    scope: z.string().meta({ description: "The namespace audited, or * for all namespaces." }),
    clean: z.boolean().meta({ description: "True when nothing was found (exit code 0)." }),
    findings: z.number().int().meta({ description: "How many findings in all rows." }),
    connections: z.array(ConnectionRow),
    organizations: z.array(OrganizationRow),
  })
  .strict()
  .meta({
    title: "modelkeys audit report",
    description:
      "One row per ProviderConnection and per Organization, with what needs attention. Never holds a secret.",
  });
export type AuditReport = z.infer<typeof AuditReport>;

/** What the audit reads: the objects as listed, the scope, an optional max-age override, and the clock. */
export interface AuditInput {
  connections: readonly ProviderConnection[];
  organizations: readonly Organization[];
  /** The namespace audited, or "*" for all. */
  scope: string;
  /** Overrides every max key age (the --max-key-age flag). */
  maxKeyAge?: string;
  now: Date;
}

const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/** Builds the report. Pure: the same objects and clock give the same report. */
export function audit(input: AuditInput): AuditReport {
  const organizations = new Map(
    input.organizations.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o] as const),
  );
  const changedBy = new Map<string, number>();
  for (const o of input.organizations)
    for (const record of o.status?.app?.changedRecords ?? [])
      changedBy.set(`${o.metadata.namespace}/${record.connection}`, record.id);

  const connections = input.connections
    .map((c) => connectionRow(c, organizations, changedBy, input))
    .sort(byName);
  const orgRows = input.organizations.map(organizationRow).sort(byName);
  const findings = [...connections, ...orgRows].reduce((n, row) => n + row.findings.length, 0);
  return {
    version: AUDIT_REPORT_VERSION,
    generatedTime: input.now.toISOString(),
    scope: input.scope,
    clean: findings === 0,
    findings,
    connections,
    organizations: orgRows,
  };
}

function connectionRow(
  c: ProviderConnection,
  organizations: ReadonlyMap<string, Organization>,
  changedBy: ReadonlyMap<string, number>,
  input: AuditInput,
): ConnectionRow {
  const { namespace, name } = c.metadata;
  const organization = organizations.get(`${namespace}/${c.spec.organizationRef.name}`);
  const ready = readiness(c);
  const age = keyAgeMs(c, input.now);
  const limit = input.maxKeyAge ?? maxKeyAge(c, organization);
  const models = modelCounts(c);
  const findings: Finding[] = [];
  if (ready.status !== "True")
    findings.push({ kind: "NotReady", message: `Ready=${ready.status} (${ready.reason}): ${ready.message}` });
  if (limit !== undefined && age !== undefined && age > durationToMs(limit)) {
    findings.push({
      kind: "KeyPastMaxAge",
      message: `key rotated ${formatAge(age)} ago, past the max age ${limit}`,
    });
  }
  const changed = changedBy.get(`${namespace}/${name}`);
  if (changed !== undefined)
    findings.push({ kind: "ChangedInApp", message: `app record ${changed} was changed in the app` });
  const rotated = keyRotatedTime(c);
  return {
    namespace,
    name,
    provider: c.spec.provider,
    organization: c.spec.organizationRef.name,
    ...(c.status?.scope ? { scope: c.status.scope } : {}),
    ...(c.status?.appConnectionId !== undefined ? { appConnectionId: c.status.appConnectionId } : {}),
    ...(c.status?.credentialFingerprint ? { keyFingerprint: c.status.credentialFingerprint } : {}),
    ...(rotated ? { keyRotatedTime: rotated } : {}),
    ...(age !== undefined ? { keyAgeSeconds: Math.floor(age / 1000) } : {}),
    ...(limit !== undefined ? { maxKeyAge: limit } : {}),
    ...(models ? { modelsWorking: models.working, modelsExpected: models.expected } : {}),
    ready: ready.status,
    reason: ready.reason,
    message: ready.message,
    findings,
  };
}

function organizationRow(o: Organization): OrganizationRow {
  const ready = o.status?.conditions?.find((c) => c.type === "Ready");
  const app = o.status?.app;
  const findings: Finding[] = [];
  if (ready?.status !== "True") {
    findings.push({
      kind: "OrganizationNotReady",
      message: `Ready=${ready?.status ?? "Unknown"} (${ready?.reason ?? "NotReconciled"}): ${ready?.message ?? ""}`,
    });
  }
  if (app === undefined) {
    findings.push({ kind: "NotListed", message: "the operator has not listed the app's records yet" });
  } else if (app.unmanaged > 0) {
    findings.push({
      kind: "UnmanagedRecords",
      message: `${app.unmanaged} app record(s) that no ProviderConnection manages`,
    });
  }
  return {
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    ready: ready?.status ?? "Unknown",
    reason: ready?.reason ?? "NotReconciled",
    ...(app
      ? {
          reportedTime: app.reportedTime,
          managed: app.managed,
          unmanaged: app.unmanaged,
          changed: app.changed,
          offLimits: app.offLimits,
        }
      : {}),
    unmanagedRecords: app?.unmanagedRecords ?? [],
    changedRecords: app?.changedRecords ?? [],
    findings,
  };
}

/** An age as kubectl shows it: 45s, 12m, 5h, 95d. */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
