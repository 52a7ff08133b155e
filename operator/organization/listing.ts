// One listing of an organization's connection records in the app, shared by every ProviderConnection of that
// organization: adoption, one-per-organization and drift read it instead of asking the app per connection.
import type { AppConnection } from "../app/schemas.ts";

/** The app's connection records of one organization, as the operator last knew them. */
export interface AppListing {
  /** Every record; lists the app again first when the listing is older than its TTL or was invalidated. */
  records(): Promise<readonly AppConnection[]>;
  /**
   * One record by id, from the listing; a record the listing lacks is asked for by id before it is called gone
   * (it may have been made since the listing).
   */
  record(id: number): Promise<AppConnection | undefined>;
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
 * never older than `ttlMs` when read; our own creates, updates and deletes are reflected at once.
 * Assumptions: the token reaches one organization (the client's), so a listing is that organization's records.
 * Caveats: a change made in the app by someone else is seen only at the next listing (within `ttlMs`), which is
 * how drift was found before too (at the resync). Records live in memory (about 1 KiB each).
 */
export function createAppListing(options: AppListingOptions): AppListing {
  let byId = new Map<number, AppConnection>();
  let listedAt: number | undefined;
  let stale = true;
  let listing: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    listing ??= (async () => {
      try {
        const started = options.now();
        const records = await options.list();
        byId = new Map(records.map((r) => [r.id, r]));
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
    async record(id) {
      await fresh();
      const known = byId.get(id);
      if (known) return known;
      const read = await options.get(id);
      if (read) byId.set(read.id, read);
      return read;
    },
    listedAt: () => listedAt,
    remember(record) {
      byId.set(record.id, record);
    },
    forget(id) {
      byId.delete(id);
    },
    invalidate() {
      stale = true;
    },
    fill(records) {
      byId = new Map(records.map((r) => [r.id, r]));
      listedAt = options.now();
      stale = false;
    },
  };
}
