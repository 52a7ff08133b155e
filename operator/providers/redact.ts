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

/** Fragments shorter than this are left alone (too many ordinary words would match). */
const MIN_FRAGMENT = 6;
/** Provider text beyond this is dropped before scanning (bounds the work). */
const MAX_SCANNED = 2000;

/**
 * Returns `text` with every secret, every run of 6+ characters that also occurs inside a secret, and every
 * key-shaped token replaced, collapsed to one line and cut to a few hundred characters.
 *
 * Guarantees: no secret survives whole, nor any 6-character piece of one, whatever surrounds it.
 * Caveats: a piece shorter than 6 characters (a key's last 4) survives when it stands alone without a
 * mask; providers print such tails next to asterisks, which the key shapes catch.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text.slice(0, MAX_SCANNED).replace(/\s+/g, " ").trim();
  const usable = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  for (const secret of usable) out = out.split(secret).join(REDACTED);
  for (const shape of KEY_SHAPES) out = out.replace(shape, REDACTED);
  out = redactFragments(
    out,
    usable.filter((s) => s.length >= MIN_FRAGMENT),
  );
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE - 1)}…` : out;
}

/** Replaces each maximal run of text that is a substring of a secret and at least MIN_FRAGMENT long. */
function redactFragments(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    let longest = 0;
    for (const secret of secrets) {
      let length = longest + 1;
      while (i + length <= text.length && secret.includes(text.slice(i, i + length))) length++;
      longest = Math.max(longest, length - 1);
    }
    if (longest >= MIN_FRAGMENT) {
      out += REDACTED;
      i += longest;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** A provider's short error code (e.g. "invalid_api_key", "DeploymentNotFound"), or undefined if it is not one. */
export function errorCode(value: unknown): string | undefined {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : undefined;
}
