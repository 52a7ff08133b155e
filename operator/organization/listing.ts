// One listing of an organization's connection records in the app, shared by every ProviderConnection of that
// organization: adoption, one-per-organization and drift read it instead of asking the app per connection.
import type { AppConnection } from "../app/schemas.ts";
import { type ManagedFields, targetKey } from "../reconcile/app-fields.ts";

/** The app's connection records of one organization, as the operator last knew them. */
export interface AppListing {
  /** Every record; lists the app again first when the listing is older than its TTL or was invalidated. */
  records(): Promise<readonly AppConnection[]>;
  /**
   * The records that may match `desired` (recordMatches): the provider's, for an organization-wide provider; else
   * those of the same provider, deployment and endpoint. Found by index, whatever the number of records.
   */
  candidates(desired: ManagedFields): Promise<readonly AppConnection[]>;
  /**
   * One record by id, from the listing; a record the listing lacks is asked for by id before it is called gone
   * (it may have been made since the listing). `fresh` asks the app by id first.
   */
  record(id: number, options?: { fresh?: boolean }): Promise<AppConnection | undefined>;
  /** When the app was last listed (ms since the epoch), undefined before the first listing. */
  listedAt(): number | undefined;
  /** Records what one of our own writes returned (create or update): the listing stays current without a list. */
  remember(record: AppConnection): void;
  /** Forgets a record our own delete removed. */
  forget(id: number): void;
  /** The next read lists the app again (a resync or a sync request asked for fresh data). */
  invalidate(): void;
  /** Takes a listing made elsewhere (the session's probe lists to check the token's role) as the current one. */
  fill(records: readonly AppConnection[]): void;
}

export interface AppListingOptions {
  /** Lists every record of the organization (GET /api/model-provider-connections/). */
  list(): Promise<AppConnection[]>;
  /** Reads one record; undefined when the app has none with that id. */
  get(id: number): Promise<AppConnection | undefined>;
  /** How long a listing is trusted: the resync interval, so drift made in the app shows at the next resync. */
  ttlMs: number;
  now(): number;
}

/**
 * Creates the shared listing of one organization.
 *
 * Guarantees: at most one list request runs at a time (readers of a stale listing share it); the listing is
 * never older than `ttlMs` when read; our own creates, updates and deletes are reflected at once; `candidates`
 * holds every record `records` has that matches.
 * Assumptions: the token reaches one organization (the client's), so a listing is that organization's records.
 * Caveats: a change made in the app by someone else is seen only at the next listing (within `ttlMs`), which is
 * how drift was found before too (at the resync). Records live in memory (about 1 KiB each).
 */
export function createAppListing(options: AppListingOptions): AppListing {
  let byId = new Map<number, AppConnection>();
  /** Record ids by provider, and by target (provider, deployment, endpoint): adoption's lookups. */
  let byProvider = new Map<string, Set<number>>();
  let byTarget = new Map<string, Set<number>>();
  let listedAt: number | undefined;
  let stale = true;
  let listing: Promise<void> | undefined;

  const add = (index: Map<string, Set<number>>, key: string, id: number) => {
    const ids = index.get(key);
    if (ids) ids.add(id);
    else index.set(key, new Set([id]));
  };
  const remove = (index: Map<string, Set<number>>, key: string, id: number) => {
    const ids = index.get(key);
    ids?.delete(id);
    if (ids?.size === 0) index.delete(key);
  };
  const drop = (id: number) => {
    const old = byId.get(id);
    if (!old) return;
    byId.delete(id);
    remove(byProvider, String(old.provider), id);
    remove(byTarget, targetKey(old), id);
  };
  const put = (record: AppConnection) => {
    drop(record.id);
    byId.set(record.id, record);
    add(byProvider, String(record.provider), record.id);
    add(byTarget, targetKey(record), record.id);
  };
  const reset = (records: readonly AppConnection[]) => {
    byId = new Map();
    byProvider = new Map();
    byTarget = new Map();
    for (const record of records) put(record);
  };

  const refresh = (): Promise<void> => {
    listing ??= (async () => {
      try {
        const started = options.now();
        reset(await options.list());
        listedAt = started;
        stale = false;
      } finally {
        listing = undefined;
      }
    })();
    return listing;
  };
  const fresh = async () => {
    if (stale || listedAt === undefined || options.now() - listedAt >= options.ttlMs) await refresh();
  };

  return {
    async records() {
      await fresh();
      return [...byId.values()];
    },
    async candidates(desired) {
      await fresh();
      const ids =
        desired.scope === "Organization"
          ? byProvider.get(desired.provider)
          : byTarget.get(targetKey(desired));
      return [...(ids ?? [])].map((id) => byId.get(id) as AppConnection);
    },
    async record(id, how) {
      if (how?.fresh) {
        // Asked by id, not from the listing: a deletion must see the record as it is now (turned internal?).
        const now = await options.get(id);
        if (now) put(now);
        else drop(id);
        return now;
      }
      await fresh();
      const known = byId.get(id);
      if (known) return known;
      const read = await options.get(id);
      if (read) put(read);
      return read;
    },
    listedAt: () => listedAt,
    remember(record) {
      put(record);
    },
    forget(id) {
      drop(id);
    },
    invalidate() {
      stale = true;
    },
    fill(records) {
      reset(records);
      listedAt = options.now();
      stale = false;
    },
  };
}
