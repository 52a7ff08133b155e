// Scrubs provider text before it reaches a message: providers echo key fragments ("sk-...abcd") in errors.
const MAX_MESSAGE = 300;
const REDACTED = "[redacted]";

/** Tokens that look like credentials whatever their source: masked keys and well-known key prefixes. */
const KEY_SHAPES = [
  /\S*\*{3,}\S*/g, // "sk-proj-****abcd", "AIza****"
  /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}/g, // OpenAI, Anthropic (sk-ant-...)
  /\bAIza[A-Za-z0-9_-]{10,}/g, // Google API keys
  /\bya29\.[A-Za-z0-9_.-]+/g, // Google access tokens
  /\beyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}/g, // JWTs
  /-----BEGIN[^-]*-----[\s\S]*?(?:-----END[^-]*-----|$)/g, // PEM blocks
];

/**
 * Returns `text` with every secret, every token of 6+ characters that occurs inside a secret, and every
 * key-shaped token replaced, collapsed to one line and cut to a few hundred characters.
 *
 * Guarantees: no secret of length ≥ 6 survives whole or as a 6-character fragment bounded by non-word
 * characters. Caveats: a fragment shorter than 6 characters (e.g. a key's last 4) survives only when it
 * stands alone without a mask; providers print such tails next to asterisks, which the key shapes catch.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\s+/g, " ").trim();
  const usable = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of usable) out = out.split(secret).join(REDACTED);
  for (const shape of KEY_SHAPES) out = out.replace(shape, REDACTED);
  out = out.replace(/[A-Za-z0-9_+/=.-]{6,}/g, (token) =>
    usable.some((secret) => secret.length >= 6 && secret.includes(token)) ? REDACTED : token,
  );
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE - 1)}…` : out;
}

/** A provider's short error code (e.g. "invalid_api_key", "DeploymentNotFound"), or undefined if it is not one. */
export function errorCode(value: unknown): string | undefined {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : undefined;
}
