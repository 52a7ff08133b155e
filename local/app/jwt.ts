// HS256 JSON Web Tokens for the contract server: signs the personal access tokens it hands out and checks them.
import { createHmac, timingSafeEqual } from "node:crypto";

/** The claims the contract server puts in its tokens (the shape of djangorestframework-simplejwt's). */
export interface TokenClaims {
  token_type: "refresh" | "access";
  exp: number;
  iat: number;
  jti: string;
  user_id: number;
}

const HEADER = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString("base64url");
}

function signature(secret: Buffer, signingInput: string): string {
  return createHmac("sha256", secret).update(signingInput).digest("base64url");
}

/** Signs `claims` with HS256. */
export function signToken(secret: Buffer, claims: TokenClaims): string {
  const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${signature(secret, signingInput)}`;
}

/**
 * Verifies the signature and returns the claims, or undefined when the token is malformed or forged.
 * Expiry is the caller's check: it owns the clock.
 */
export function verifyToken(secret: Buffer, token: string): TokenClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, payload, sig] = parts as [string, string, string];
  const expected = Buffer.from(signature(secret, `${header}.${payload}`));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<TokenClaims>;
    if (
      (claims.token_type !== "refresh" && claims.token_type !== "access") ||
      typeof claims.exp !== "number" ||
      typeof claims.user_id !== "number"
    ) {
      return undefined;
    }
    return claims as TokenClaims;
  } catch {
    return undefined;
  }
}
