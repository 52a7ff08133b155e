// The app's records that are never the operator's, whatever the Organization says: internal records (the app's
// own, hidden from users) and records of scope User (one user's personal key). Every rule that considers app
// records (adoption, one per organization, drift, deletion) asks here first.

/** The fields that decide whether a record is off-limits. */
export interface OffLimitsFields {
  is_internal?: boolean | null;
  scope?: string | null;
}

/** Why the operator must leave `record` alone, in words for a message; undefined when it may consider it. */
export function offLimitsReason(record: OffLimitsFields): string | undefined {
  if (record.is_internal === true) return "it is internal to the app";
  if (record.scope?.toLowerCase() === "user") return "it is a user's own (scope User)";
  return undefined;
}

/**
 * Whether `record` is off-limits: never adopted, overwritten, patched or deleted, and never counted as the
 * organization's connection for a provider, even with `adoptExisting: true`.
 */
export function isOffLimits(record: OffLimitsFields): boolean {
  return offLimitsReason(record) !== undefined;
}
