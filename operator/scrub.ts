// The one scrubber for text that leaves the process (logs, Events, status, error messages): secret-shaped
// tokens by their look, and known secret values whole or in pieces, also URL-encoded and base64-encoded.

/** What replaces a secret, or a piece of one. */
export const REDACTED = "[REDACTED]";

/** Runs of a known secret at least this long are removed wherever they appear (the floor is 8). */
export const MIN_FRAGMENT = 6;
/** Text beyond this is dropped before the fragment scan (bounds the work); messages are cut shorter anyway. */
const MAX_SCANNED = 4000;
/** A one-line message is cut to this many characters. */
const MAX_MESSAGE = 300;

type Replacement = string | ((match: string, ...groups: string[]) => string);

/** Secret shapes recognised without knowing the value. */
const SHAPES: [RegExp, Replacement][] = [
  // PEM blocks, also inside JSON where newlines are escaped, and cut-off ones.
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, REDACTED],
  // Authorization header values (a plain word after "Token" in prose is left alone).
  [
    /\b([Bb]earer|BEARER|Token|TOKEN|Basic|BASIC)\s+([A-Za-z0-9._~+/=-]{8,})/g,
    (m, scheme, value) =>
      /[0-9]/.test(value as string) || (value as string).length >= 20 ? `${scheme} ${REDACTED}` : m,
  ],
  // JWTs (header.payload.signature, base64url), as used by personal access tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Masked keys as providers print them: "sk-proj-****abcd", "AIza****".
  [/[^\s"'(),;]*\*{3,}[^\s"'(),;]*/g, REDACTED],
  // OpenAI / Anthropic style keys (sk-..., sk-proj-..., sk-ant-..., pk-, rk-).
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{6,}/g, REDACTED],
  // Google API keys and access tokens.
  [/\bAIza[0-9A-Za-z_-]{10,}/g, REDACTED],
  [/\bya29\.[A-Za-z0-9_.-]+/g, REDACTED],
  // key=value and "key": "value" pairs with a secret-sounding key.
  [
    /\b(api[-_]?key|x-api-key|auth[-_]?token|access[-_]?token|refresh[-_]?token|token|password|passphrase|client[-_]?secret|private[-_]?key)(\\?["']?\s*[:=]\s*\\?["']?)([^\s"'\\,&;}]+)/gi,
    (_m, key, sep) => `${key}${sep}${REDACTED}`,
  ],
  // Credentials in URLs.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]+):[^/\s@]+@/gi, (_m, head) => `${head}:${REDACTED}@`],
];

/** Removes secret-shaped tokens (bearer values, JWTs, `sk-` and Google keys, masked keys, `key=value`, PEM). */
export function redactShapes(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement as string);
  return out;
}

/**
 * The parts of a credential worth scrubbing. A service-account JSON file is mostly public words (its type,
 * project, email, token URI) that must stay readable in messages; its secrets are the private key (also its
 * base64 body on one line) and the key id. Any other value is secret as a whole.
 */
export function secretMaterial(value: string): string[] {
  if (!value.trimStart().startsWith("{")) return [value];
  try {
    const file = JSON.parse(value) as { private_key?: unknown; private_key_id?: unknown };
    const key = typeof file.private_key === "string" ? file.private_key : "";
    const body = key.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    const parts = [key, body, file.private_key_id].filter(
      (part): part is string => typeof part === "string" && part.length >= 4,
    );
    return parts.length > 0 ? parts : [value];
  } catch {
    return [value];
  }
}

/** A value and the forms it travels in: URL-encoded, base64 and base64url (each only when it differs). */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret]);
  try {
    forms.add(encodeURIComponent(secret));
  } catch {
    // A lone surrogate cannot be URL-encoded; then there is no such form to find.
  }
  const bytes = Buffer.from(secret, "utf8");
  forms.add(bytes.toString("base64").replace(/=+$/, ""));
  forms.add(bytes.toString("base64url"));
  return [...forms].filter((form) => form.length > 0);
}

/**
 * `text` with every known secret removed: each value (and its URL-encoded and base64 forms) whole, then every
 * run of {@link MIN_FRAGMENT} or more characters that also occurs inside one of them.
 *
 * Guarantees: no piece of 6 or more characters of a listed secret (or of its encoded forms) survives, whatever
 * surrounds it. Caveats: text beyond the first few thousand characters is dropped, not scanned.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = formsOf(secrets);
  if (forms.length === 0) return text;
  const out = removeWhole(text.length > MAX_SCANNED ? `${text.slice(0, MAX_SCANNED)}…` : text, forms);
  return redactFragments(
    out,
    forms.filter((f) => f.length >= MIN_FRAGMENT),
  );
}

/**
 * `text` with each known secret removed whole, in every form (as written, URL-encoded, base64), but not in
 * pieces: for the operator's own tool output (Pulumi's), where a secret may be an ordinary word such as a
 * passphrase and the words around it must stay readable. Text from the app or a provider takes
 * {@link scrubSecrets}.
 */
export function removeSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  return removeWhole(text, formsOf(secrets));
}

function formsOf(secrets: readonly (string | undefined)[]): string[] {
  const values = secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
  return [...new Set(values.flatMap(secretForms))].sort((a, b) => b.length - a.length);
}

function removeWhole(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (form.length >= 4) out = out.split(form).join(REDACTED);
  return out;
}

/** Both: known secrets in any piece or form, then secret shapes. For any text that came from outside. */
export function scrubText(text: string, secrets: readonly (string | undefined)[] = []): string {
  return redactShapes(scrubSecrets(text, secrets));
}

/** {@link scrubText}, collapsed to one line and cut to a few hundred characters: for conditions and Events. */
export function scrubMessage(text: string, secrets: readonly (string | undefined)[] = []): string {
  const out = scrubText(text, secrets).replace(/\s+/g, " ").trim();
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
      let length = Math.max(longest + 1, MIN_FRAGMENT);
      if (!secret.includes(text.slice(i, i + length)) || i + length > text.length) continue;
      while (i + length < text.length && secret.includes(text.slice(i, i + length + 1))) length++;
      longest = Math.max(longest, length);
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
