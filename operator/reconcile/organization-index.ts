// The cached connections grouped by namespace and Organization, kept current by the informer's events: the
// one-per-organization rule and the app ids other connections hold, answered without scanning the namespace.
import { type ProviderConnection, scopeOf } from "../../crds/index.ts";

/** What a reconcile asks about the other connections of its Organization (see one-per-organization.ts). */
export interface OrganizationPeers {
  /**
   * The other connections of the same namespace, Organization and organization-wide provider: those that compete
   * with `connection` for the organization's one record. Per-model providers have none.
   */
  rivals(connection: ProviderConnection): readonly ProviderConnection[];
  /** Whether another connection of the same Organization holds app record `id` in its status. */
  heldByOther(connection: ProviderConnection, id: number): boolean;
  /** Every connection of Organization `organization` in `namespace`. */
  members(namespace: string, organization: string): readonly ProviderConnection[];
}

interface Group {
  members: Map<string, ProviderConnection>;
  /** Organization-wide providers only: provider → name → connection. */
  byProvider: Map<string, Map<string, ProviderConnection>>;
  /** App record id → the names whose status holds it (two at once only in a race, never for long). */
  holders: Map<number, Set<string>>;
}

/** Where a connection was indexed, so that an update that moves it (organizationRef, provider, id) is undone. */
interface Placement {
  group: string;
  provider: string;
  id: number | undefined;
}

/**
 * An index of connections by namespace and Organization.
 *
 * Guarantees: after `set` (add or update) and `delete` of every informer event, `rivals`, `heldByOther` and
 * `members` answer as a scan of the cache would (`rivalsOf`; the statuses' appConnectionId of the Organization's
 * other connections), in time that depends on the Organization's rivals, not on the number of connections; an
 * update that changes a connection's Organization, provider or held id moves it.
 * Assumptions: it is fed the informer's objects in event order (the cache's own view, not our writes' answers).
 */
export class OrganizationIndex implements OrganizationPeers {
  readonly #groups = new Map<string, Group>();
  readonly #placed = new Map<string, Placement>();

  /** Indexes a connection the cache added or updated. */
  set(connection: ProviderConnection): void {
    const { namespace, name } = connection.metadata;
    const key = `${namespace}/${name}`;
    const placement: Placement = {
      group: groupKey(namespace, connection.spec.organizationRef.name),
      provider: connection.spec.provider,
      id: connection.status?.appConnectionId,
    };
    const before = this.#placed.get(key);
    if (before) this.#remove(name, before);
    this.#placed.set(key, placement);
    const group = entryOf(this.#groups, placement.group, () => ({
      members: new Map(),
      byProvider: new Map(),
      holders: new Map(),
    }));
    group.members.set(name, connection);
    if (scopeOf(connection.spec.provider) === "Organization") {
      entryOf(group.byProvider, placement.provider, () => new Map()).set(name, connection);
    }
    if (placement.id !== undefined) {
      entryOf(group.holders, placement.id, () => new Set<string>()).add(name);
    }
  }

  /** Forgets a connection the cache deleted. */
  delete(connection: ProviderConnection): void {
    const { namespace, name } = connection.metadata;
    const key = `${namespace}/${name}`;
    const before = this.#placed.get(key);
    if (!before) return;
    this.#placed.delete(key);
    this.#remove(name, before);
  }

  rivals(connection: ProviderConnection): readonly ProviderConnection[] {
    if (scopeOf(connection.spec.provider) !== "Organization") return [];
    const named = this.#group(connection)?.byProvider.get(connection.spec.provider);
    if (!named) return [];
    const rivals: ProviderConnection[] = [];
    for (const [name, other] of named) if (name !== connection.metadata.name) rivals.push(other);
    return rivals;
  }

  heldByOther(connection: ProviderConnection, id: number): boolean {
    const names = this.#group(connection)?.holders.get(id);
    if (!names) return false;
    return names.size > 1 || !names.has(connection.metadata.name);
  }

  members(namespace: string, organization: string): readonly ProviderConnection[] {
    return [...(this.#groups.get(groupKey(namespace, organization))?.members.values() ?? [])];
  }

  #group(connection: ProviderConnection): Group | undefined {
    return this.#groups.get(groupKey(connection.metadata.namespace, connection.spec.organizationRef.name));
  }

  #remove(name: string, placement: Placement): void {
    const group = this.#groups.get(placement.group);
    if (!group) return;
    group.members.delete(name);
    const named = group.byProvider.get(placement.provider);
    named?.delete(name);
    if (named?.size === 0) group.byProvider.delete(placement.provider);
    if (placement.id !== undefined) {
      const names = group.holders.get(placement.id);
      names?.delete(name);
      if (names?.size === 0) group.holders.delete(placement.id);
    }
    if (group.members.size === 0) this.#groups.delete(placement.group);
  }
}

/** The value under `key`, made and stored first when there is none. */
function entryOf<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

// Namespaces and names are DNS labels/names: a slash cannot occur in either.
const groupKey = (namespace: string, organization: string) => `${namespace}/${organization}`;
