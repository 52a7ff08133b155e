// What the app holds for an Organization, against what its ProviderConnections manage: a pure function from the
// app's listing and the connections to the counts and lists in Organization.status.app.
import {
  type AppReport,
  type ChangedRecord,
  type ProviderConnection,
  REPORTED_RECORDS_LIMIT,
  type UnmanagedRecord,
} from "../../crds/index.ts";

/** The fields of an app record the report reads (the app's list answer has them; never a secret). */
export interface ListedRecord {
  id: number;
  provider?: string | null;
  scope?: string | null;
  deployment_name?: string | null;
  is_internal?: boolean | null;
  updated_at?: string | null;
}

/**
 * Whether a record is not the organization's to manage: internal to the app, or one user's own (scope User).
 * The operator never adopts or touches these, so the report counts them apart instead of calling them unmanaged.
 */
export function offLimits(record: Pick<ListedRecord, "is_internal" | "scope">): boolean {
  return record.is_internal === true || record.scope?.toLowerCase() === "user";
}

/**
 * The report of one Organization (`namespace/organization`).
 *
 * - managed: records whose id a ProviderConnection of this Organization holds in status.appConnectionId;
 * - changed: of those, records whose updated_at differs from the connection's status.appUpdatedTime (changed in
 *   the app since the operator's last write; the connection restores them at its next reconcile);
 * - unmanaged: the organization's other records (off-limits ones aside), listed with id, provider, scope and
 *   deployment, the first REPORTED_RECORDS_LIMIT by id;
 * - offLimits: internal and User-scope records, counted only.
 *
 * Caveats: connections of another Organization object that reaches the same app organization are not seen here:
 * their records count as unmanaged.
 */
export function appReport(
  records: readonly ListedRecord[],
  connections: readonly ProviderConnection[],
  namespace: string,
  organization: string,
  now: Date,
): AppReport {
  const holders = new Map<number, ProviderConnection>();
  for (const c of connections) {
    const id = c.status?.appConnectionId;
    if (
      c.metadata.namespace !== namespace ||
      c.spec.organizationRef.name !== organization ||
      id === undefined
    )
      continue;
    holders.set(id, c);
  }
  let managed = 0;
  let offLimitsCount = 0;
  const unmanaged: UnmanagedRecord[] = [];
  const changed: ChangedRecord[] = [];
  for (const record of [...records].sort((a, b) => a.id - b.id)) {
    const holder = holders.get(record.id);
    if (holder) {
      managed += 1;
      if (changedInApp(record, holder)) changed.push({ id: record.id, connection: holder.metadata.name });
    } else if (offLimits(record)) {
      offLimitsCount += 1;
    } else {
      unmanaged.push({
        id: record.id,
        provider: record.provider ?? "",
        scope: record.scope ?? "",
        ...(record.deployment_name ? { deployment: record.deployment_name } : {}),
      });
    }
  }
  return {
    reportedTime: now.toISOString(),
    managed,
    unmanaged: unmanaged.length,
    changed: changed.length,
    offLimits: offLimitsCount,
    ...(unmanaged.length > 0 ? { unmanagedRecords: unmanaged.slice(0, REPORTED_RECORDS_LIMIT) } : {}),
    ...(changed.length > 0 ? { changedRecords: changed.slice(0, REPORTED_RECORDS_LIMIT) } : {}),
  };
}

/**
 * Whether a managed record was changed in the app since the operator's last write: its updated_at is neither the
 * one after that write (status.appUpdatedTime) nor an app's own refresh of its model list that the connection
 * recorded as such (status.appRefreshedTime, where the operator records those).
 */
function changedInApp(record: ListedRecord, holder: ProviderConnection): boolean {
  const status = holder.status as (ProviderConnection["status"] & { appRefreshedTime?: string }) | undefined;
  const seen = record.updated_at ?? undefined;
  if (status?.appUpdatedTime === undefined || seen === status.appUpdatedTime) return false;
  return status.appRefreshedTime === undefined || seen !== status.appRefreshedTime;
}

/**
 * Whether the report is due: never listed by this process, a spec change, a sync request, or a report interval
 * since the last listing (`listedAt`, kept in memory: status is written only when the figures change).
 */
export function reportDue(
  status: { observedGeneration?: number; syncRequestedAt?: string } | undefined,
  generation: number | undefined,
  syncRequest: string | undefined,
  listedAt: Date | undefined,
  intervalMs: number,
  now: Date,
): { due: true } | { due: false; inMs: number } {
  if (listedAt === undefined || status?.observedGeneration !== generation) return { due: true };
  if (syncRequest !== undefined && syncRequest !== status?.syncRequestedAt) return { due: true };
  const wait = listedAt.getTime() + intervalMs - now.getTime();
  return wait <= 0 ? { due: true } : { due: false, inMs: wait };
}

/** The report to keep: the previous one (and its time) when the figures are the same, so nothing is written. */
export function keepUnchanged(previous: AppReport | undefined, next: AppReport): AppReport {
  if (previous === undefined) return next;
  const { reportedTime: _a, ...before } = previous;
  const { reportedTime: _b, ...after } = next;
  return JSON.stringify(before) === JSON.stringify(after) ? previous : next;
}
