// Authentication as Label Studio does it: a legacy `Token <key>`, or `Bearer <access JWT>` obtained by
// exchanging a personal access token (a refresh JWT) at POST /api/token/refresh/.
import { verifyToken } from "./jwt.ts";
import type { AppState, User } from "./state.ts";

export type Authentication =
  | { ok: true; user: User }
  | { ok: false; body: { detail: string; code?: string } };

const NOT_PROVIDED = { detail: "Authentication credentials were not provided." };
const TOKEN_NOT_VALID = { detail: "Given token not valid for any token type", code: "token_not_valid" };

/** Resolves the Authorization header to a user, or the 401 body DRF would answer. */
export function authenticate(state: AppState, header: string | undefined): Authentication {
  const match = /^(\S+)\s+(\S+)$/.exec(header?.trim() ?? "");
  if (!match) return { ok: false, body: NOT_PROVIDED };
  const [, scheme, credential] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() === "token") {
    const user = state.userByLegacyToken(credential);
    return user ? { ok: true, user } : { ok: false, body: { detail: "Invalid token." } };
  }
  if (scheme.toLowerCase() === "bearer") {
    const claims = verifyToken(state.jwtSecret, credential);
    if (claims?.token_type !== "access" || claims.exp <= state.now() / 1000) {
      return { ok: false, body: TOKEN_NOT_VALID };
    }
    const user = state.user(claims.user_id);
    return user
      ? { ok: true, user }
      : { ok: false, body: { detail: "User not found", code: "user_not_found" } };
  }
  return { ok: false, body: NOT_PROVIDED };
}

export type Refresh = { status: 200; body: { access: string } } | { status: 400 | 401; body: object };

/** POST /api/token/refresh/: a valid, unexpired, unrevoked refresh JWT of a known user → an access JWT. */
export function refreshAccessToken(state: AppState, body: unknown): Refresh {
  const refresh = (body as { refresh?: unknown } | null)?.refresh;
  if (typeof refresh !== "string" || refresh === "") {
    return { status: 400, body: { refresh: ["This field is required."] } };
  }
  const claims = verifyToken(state.jwtSecret, refresh);
  if (
    claims?.token_type !== "refresh" ||
    claims.exp <= state.now() / 1000 ||
    state.isRevoked(claims.jti) ||
    !state.user(claims.user_id)
  ) {
    return { status: 401, body: { detail: "Token is invalid or expired", code: "token_not_valid" } };
  }
  return { status: 200, body: { access: state.issueAccessToken(claims.user_id) } };
}
