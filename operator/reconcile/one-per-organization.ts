// The one-per-organization rule of organization-wide providers (OpenAI, Gemini, VertexAI, Anthropic), in one
// place: who competes and who wins (organization-index.ts finds the rivals and the ids others hold).
import { type ProviderConnection, scopeOf } from "../../crds/index.ts";
import type { Sibling } from "./types.ts";

/**
 * The other connections of the same namespace, Organization and organization-wide provider: those that compete
 * with `connection` for the organization's one record. Per-model providers have none.
 */
export function rivalsOf(
  connection: ProviderConnection,
  all: readonly ProviderConnection[],
): ProviderConnection[] {
  if (scopeOf(connection.spec.provider) !== "Organization") return [];
  return all.filter(
    (other) =>
      sameOrganization(connection, other) &&
      other.metadata.name !== connection.metadata.name &&
      other.spec.provider === connection.spec.provider,
  );
}

/** The rivals as the plan sees them (names and ages only). */
export function siblingsOf(connection: ProviderConnection, all: readonly ProviderConnection[]): Sibling[] {
  return rivalsOf(connection, all).map((other) => ({
    name: other.metadata.name,
    creationTimestamp: other.metadata.creationTimestamp ?? "",
    deleting: other.metadata.deletionTimestamp !== undefined,
  }));
}

/**
 * The name of the connection that holds an organization-wide provider: the oldest (then the first by name) of
 * `connection` and its siblings. For a per-model provider, the connection itself.
 */
export function winnerOf(connection: ProviderConnection, siblings: readonly Sibling[]): string {
  if (scopeOf(connection.spec.provider) !== "Organization") return connection.metadata.name;
  const contenders = [
    { name: connection.metadata.name, creationTimestamp: connection.metadata.creationTimestamp ?? "" },
    ...siblings,
  ];
  contenders.sort(
    (a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp) || a.name.localeCompare(b.name),
  );
  return contenders[0]?.name ?? connection.metadata.name;
}

function sameOrganization(a: ProviderConnection, b: ProviderConnection): boolean {
  return (
    a.metadata.namespace === b.metadata.namespace &&
    a.spec.organizationRef.name === b.spec.organizationRef.name
  );
}
