// The app's two kinds of token: a legacy `Token` key used as is, or a personal access token (a refresh JWT)
// exchanged for short-lived access JWTs, cached and renewed before they expire.

/** How a configured token authenticates. */
export type TokenKind = "legacy" | "personalAccessToken";

/** The payload of a JWT, unverified (the app verifies; we only read `exp` and `token_type`), or undefined. */
export function jwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A JWT whose payload says `token_type: "refresh"` is a personal access token; anything else is legacy. */
export function tokenKind(token: string): TokenKind {
  return jwtPayload(token)?.token_type === "refresh" ? "personalAccessToken" : "legacy";
}

/** A JWT's `exp` in milliseconds, when it has one. */
export function expiresAtMs(token: string): number | undefined {
  const exp = jwtPayload(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}

export interface AccessTokenSourceOptions {
  /** Exchanges the personal access token for a fresh access JWT (one HTTP call). */
  exchange: () => Promise<string>;
  now: () => number;
  /** Renew this long before `exp`, at most half the token's lifetime; default 30 s. */
  renewBeforeMs?: number;
}

/**
 * Hands out a valid access token for a personal access token.
 *
 * Guarantees: at most one exchange is in flight at a time (callers arriving meanwhile share it); a cached
 * token is reused until min(renewBeforeMs, half its lifetime) before its `exp`; a failed exchange is not
 * cached, so the next call tries again.
 * Caveats: a token without `exp` is cached until `invalidate` (the client calls it on a 401).
 */
export class AccessTokenSource {
  private cached: { token: string; renewAtMs: number } | undefined;
  private inflight: Promise<string> | undefined;
  private readonly renewBeforeMs: number;

  constructor(private readonly options: AccessTokenSourceOptions) {
    this.renewBeforeMs = options.renewBeforeMs ?? 30_000;
  }

  /** The cached access token while fresh, else the result of one (shared) exchange. */
  get(): Promise<string> {
    if (this.cached && this.options.now() < this.cached.renewAtMs) return Promise.resolve(this.cached.token);
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The access token currently cached (to redact it from messages), if any. */
  current(): string | undefined {
    return this.cached?.token;
  }

  /** Drops `token` from the cache (the app rejected it), so the next get() exchanges again. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async exchange(): Promise<string> {
    const receivedAt = this.options.now();
    const token = await this.options.exchange();
    const exp = expiresAtMs(token);
    const margin = exp === undefined ? 0 : Math.min(this.renewBeforeMs, Math.max(0, exp - receivedAt) / 2);
    this.cached = { token, renewAtMs: exp === undefined ? Number.POSITIVE_INFINITY : exp - margin };
    return token;
  }
}
