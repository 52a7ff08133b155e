// The audit report as a person reads it (tables), or as JSON / YAML for machines (the AuditReport schema).
import { stringify } from "yaml";
import { type AuditReport, formatAge } from "./report.ts";
import { table } from "./table.ts";

export type OutputFormat = "table" | "json" | "yaml";

/** The report in the chosen format, ending with a newline. */
export function renderAudit(report: AuditReport, format: OutputFormat): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "yaml") return stringify(report, { lineWidth: 0 });
  const sections: string[] = [];
  const all = report.scope === "*";
  const name = (row: { namespace: string; name: string }) =>
    all ? `${row.namespace}/${row.name}` : row.name;
  sections.push(
    report.connections.length === 0
      ? "No ProviderConnections found."
      : table(
          [
            "connection",
            "provider",
            "organization",
            "scope",
            "key",
            "key age",
            "models",
            "ready",
            "reason",
            "findings",
          ],
          report.connections.map((c) => [
            name(c),
            c.provider,
            c.organization,
            c.scope,
            c.keyFingerprint,
            c.keyAgeSeconds === undefined
              ? undefined
              : `${formatAge(c.keyAgeSeconds * 1000)}${c.maxKeyAge ? `/${c.maxKeyAge}` : ""}`,
            c.modelsExpected === undefined ? undefined : `${c.modelsWorking}/${c.modelsExpected}`,
            c.ready,
            c.reason,
            c.findings.map((f) => f.kind).join(","),
          ]),
        ),
  );
  if (report.organizations.length > 0) {
    sections.push(
      table(
        ["organization", "ready", "reason", "managed", "unmanaged", "changed", "off-limits", "findings"],
        report.organizations.map((o) => [
          name(o),
          o.ready,
          o.reason,
          o.managed?.toString(),
          o.unmanaged?.toString(),
          o.changed?.toString(),
          o.offLimits?.toString(),
          o.findings.map((f) => f.kind).join(","),
        ]),
      ),
    );
  }
  const unmanaged = report.organizations.flatMap((o) => o.unmanagedRecords.map((r) => ({ o, r })));
  if (unmanaged.length > 0) {
    sections.push(
      `App records no ProviderConnection manages:\n${table(
        ["organization", "id", "provider", "scope", "deployment"],
        unmanaged.map(({ o, r }) => [name(o), String(r.id), r.provider, r.scope, r.deployment]),
      )}`,
    );
  }
  const changed = report.organizations.flatMap((o) => o.changedRecords.map((r) => ({ o, r })));
  if (changed.length > 0) {
    sections.push(
      `App records changed in the app since the operator's last write:\n${table(
        ["organization", "id", "connection"],
        changed.map(({ o, r }) => [name(o), String(r.id), r.connection]),
      )}`,
    );
  }
  const details = [...report.connections, ...report.organizations].flatMap((row) =>
    row.findings.map((f) => `  ${name(row)}: ${f.kind}: ${f.message}`),
  );
  sections.push(
    report.clean ? "Clean: nothing to report." : `${report.findings} finding(s):\n${details.join("\n")}`,
  );
  return `${sections.join("\n\n")}\n`;
}
