// Recent model listings, shared between checks of the same server with the same credential: the Custom connections
// of one self-hosted server (an Ollama serving several models) are checked together when a fleet is applied, and
// each would otherwise ask for the same `GET /models`.
import { createHash } from "node:crypto";

/**
 * Listings by (server, credential), each kept `maxAgeMs` after it was fetched.
 *
 * Guarantees: a listing is only ever handed to a check with the same server URL and the same credential (the key
 * is a SHA-256 of both, so no credential is kept); only successful listings are stored (a failure is asked again);
 * at most `maxEntries` are kept, the oldest dropped first.
 * Caveats: a server whose list changed answers the old one for up to `maxAgeMs`; only the list is shared, the
 * check's other requests (the JSON-mode completion) are always sent.
 */
export class ListingCache {
  readonly #entries = new Map<string, { at: number; models: readonly string[] }>();

  constructor(
    readonly maxAgeMs = 15_000,
    readonly maxEntries = 1024,
    readonly now: () => number = Date.now,
  ) {}

  /** The key for a server and credential (credential undefined: none is sent). */
  static key(server: string, credential: string | undefined): string {
    return createHash("sha256")
      .update(server)
      .update("\0")
      .update(credential ?? "")
      .digest("base64url");
  }

  get(key: string): readonly string[] | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.maxAgeMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.models;
  }

  set(key: string, models: readonly string[]): void {
    this.#entries.delete(key);
    this.#entries.set(key, { at: this.now(), models });
    // Map keeps insertion order: the first key is the oldest listing.
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}
