// `kubectl modelkeys status NAME`: one screen on one connection for a person: conditions, models with reasons,
// the key and its last rotation, recent Events.
import { keyAgeMs, modelCounts, type ProviderConnection, readiness } from "../../crds/index.ts";
import type { EventLine } from "./kube.ts";
import { formatAge } from "./report.ts";
import { table } from "./table.ts";

/** How many of the latest Events the screen shows. */
export const RECENT_EVENTS = 10;

/** Renders the screen; `now` makes ages. */
export function renderStatus(
  connection: ProviderConnection,
  events: readonly EventLine[],
  now: Date,
): string {
  const { metadata, spec, status } = connection;
  const ready = readiness(connection);
  const age = keyAgeMs(connection, now);
  const counts = modelCounts(connection);
  const lines = [
    `ProviderConnection ${metadata.namespace}/${metadata.name}`,
    `  Provider:      ${spec.provider} (scope ${status?.scope ?? "-"})`,
    `  Organization:  ${spec.organizationRef.name}${status?.organizationId ? ` (app organization ${status.organizationId})` : ""}`,
    `  Ready:         ${ready.status} ${ready.reason}${ready.message ? `: ${ready.message}` : ""}`,
    `  App record:    ${status?.appConnectionId ?? "-"}${status?.lastSyncTime ? ` (last written ${status.lastSyncTime})` : ""}`,
    `  Key:           ${status?.credentialFingerprint ?? "-"}`,
    `  Last rotation: ${status?.credentialRotatedTime ? `${status.credentialRotatedTime} (${formatAge(age ?? 0)} ago)` : "-"}${spec.maxKeyAge ? `, max age ${spec.maxKeyAge}` : ""}`,
    `  Models:        ${counts ? `${counts.working} of ${counts.expected} working` : "not checked yet"}${status?.modelsCheckedTime ? ` (checked ${status.modelsCheckedTime})` : ""}`,
  ];
  const sections = [lines.join("\n")];
  const conditions = status?.conditions ?? [];
  sections.push(
    conditions.length === 0
      ? "Conditions: none yet."
      : `Conditions:\n${table(
          ["type", "status", "reason", "since", "message"],
          conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime, c.message]),
        )}`,
  );
  const models = status?.models ?? [];
  if (models.length > 0) {
    sections.push(
      `Models:\n${table(
        ["model", "available", "reason"],
        models.map((m) => [m.name, m.available ? "yes" : "no", m.reason]),
      )}`,
    );
  }
  const recent = events.slice(-RECENT_EVENTS);
  sections.push(
    recent.length === 0
      ? "Events: none."
      : `Events:\n${table(
          ["last seen", "type", "reason", "count", "message"],
          recent.map((e) => [e.time, e.type, e.reason, String(e.count), e.message]),
        )}`,
  );
  return `${sections.join("\n\n")}\n`;
}
