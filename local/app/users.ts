// The contract server's users: their role and active organization, their legacy tokens, and the JWTs of
// personal access tokens (issued, exchanged, revoked).
import { randomBytes, randomUUID } from "node:crypto";
import { signToken } from "./jwt.ts";

/** Organization roles of Label Studio Enterprise; only owners and administrators may manage connections. */
export type Role = "owner" | "administrator" | "manager" | "reviewer" | "annotator";
export const MANAGING_ROLES: readonly Role[] = ["owner", "administrator"];
/** How the SDK spells each role in whoami's `organization_membership.role`. */
export const ROLE_CODES: Readonly<Record<Role, string>> = {
  owner: "OW",
  administrator: "AD",
  manager: "MA",
  reviewer: "RE",
  annotator: "AN",
};

export interface User {
  id: number;
  email: string;
  username: string;
  first_name: string;
  last_name: string;
  role: Role;
  active_organization: number;
}

/** What addUser hands back: the user's id and both kinds of token (they are secrets: don't log them). */
export interface SeededUser {
  id: number;
  legacyToken: string;
  refreshToken: string;
}

export interface AddUserOptions {
  role: Role;
  /** The user's active organization; default 1. */
  organization?: number;
  email?: string;
  /** Register this legacy token instead of a random one. */
  legacyToken?: string;
  /** Lifetime of the personal access token handed back; default the server's refreshTokenTtlSeconds. */
  refreshTokenTtlSeconds?: number;
}

export interface UsersOptions {
  now: () => number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/** The users and their tokens. */
export class Users {
  /** Signs and checks the server's JWTs; random per server. */
  readonly jwtSecret = randomBytes(32);
  private readonly byId = new Map<number, User>();
  private readonly legacyTokens = new Map<string, number>();
  private readonly revokedJti = new Set<string>();
  private nextUserId = 1;

  constructor(private readonly options: UsersOptions) {}

  /** Adds a user with a role in an organization; returns a legacy token and a personal access token. */
  add(options: AddUserOptions): SeededUser {
    const id = this.nextUserId++;
    const email = options.email ?? `user${id}@example.test`;
    this.byId.set(id, {
      id,
      email,
      username: email,
      first_name: "",
      last_name: "",
      role: options.role,
      active_organization: options.organization ?? 1,
    });
    const legacyToken = options.legacyToken ?? randomBytes(20).toString("hex");
    this.legacyTokens.set(legacyToken, id);
    const refreshToken = this.issueRefreshToken(id, options.refreshTokenTtlSeconds);
    return { id, legacyToken, refreshToken };
  }

  /** Issues a refresh JWT (a personal access token); a negative ttl makes an expired one. */
  issueRefreshToken(userId: number, ttlSeconds = this.options.refreshTokenTtlSeconds): string {
    return this.signFor(userId, "refresh", ttlSeconds);
  }

  /** Issues an access JWT (what POST /api/token/refresh/ answers). */
  issueAccessToken(userId: number): string {
    return this.signFor(userId, "access", this.options.accessTokenTtlSeconds);
  }

  private signFor(userId: number, tokenType: "refresh" | "access", ttlSeconds: number): string {
    const iat = Math.floor(this.options.now() / 1000);
    return signToken(this.jwtSecret, {
      token_type: tokenType,
      exp: iat + ttlSeconds,
      iat,
      jti: randomUUID().replaceAll("-", ""),
      user_id: userId,
    });
  }

  get(id: number): User | undefined {
    return this.byId.get(id);
  }

  byLegacyToken(token: string): User | undefined {
    const id = this.legacyTokens.get(token);
    return id === undefined ? undefined : this.byId.get(id);
  }

  isRevoked(jti: string): boolean {
    return this.revokedJti.has(jti);
  }

  /** Revokes a legacy token, or a personal access token by its jti (access tokens already out stay valid). */
  revoke(token: string): void {
    if (this.legacyTokens.delete(token)) return;
    const payload = token.split(".")[1];
    if (!payload) return;
    try {
      const { jti } = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: string };
      if (jti) this.revokedJti.add(jti);
    } catch {
      // not a token of ours: nothing to revoke
    }
  }

  /** The user, or a thrown error naming the id. */
  require(id: number): User {
    const user = this.byId.get(id);
    if (!user) throw new Error(`no user ${id}`);
    return user;
  }

  remove(id: number): void {
    this.byId.delete(id);
  }
}
