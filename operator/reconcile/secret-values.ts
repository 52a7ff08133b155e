// Credential values as read from Secrets, made safe before anything leaves the process: surrounding whitespace
// trimmed, control and non-ASCII bytes refused, sizes bounded per kind, service-account files checked.
import { createPrivateKey } from "node:crypto";
import { z } from "zod";

/** What a Secret value holds, which decides its rules and its size limit. */
export type SecretValueKind = "apiKey" | "authToken" | "appToken" | "serviceAccountJson";

/**
 * Largest accepted value per kind, in characters after trimming. Provider keys are under 200 characters
 * (OpenAI project keys ~170, Anthropic ~110, Azure 32–84); tokens may be JWTs; a key file is ~2.4 KB.
 */
export const SECRET_VALUE_LIMITS: Readonly<Record<SecretValueKind, number>> = {
  apiKey: 1024,
  authToken: 8192,
  appToken: 8192,
  serviceAccountJson: 16384,
};

const KIND_WORDS: Record<SecretValueKind, string> = {
  apiKey: "an API key",
  authToken: "an auth token",
  appToken: "an app token",
  serviceAccountJson: "a service-account JSON key file",
};

/** The fields of a service-account key file that the app and the token exchange need. */
const ServiceAccountFile = z.object({
  type: z.literal("service_account", 'type must be "service_account"'),
  client_email: z
    .string("client_email is missing")
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, "client_email is not an email address"),
  private_key: z
    .string("private_key is missing")
    .regex(
      /^-----BEGIN (RSA )?PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END (RSA )?PRIVATE KEY-----\n?$/,
      "private_key is not a PEM private key",
    ),
});

/** A usable value, or why the value can never be used (a message naming the Secret and key, never the value). */
export type SecretValueCheck = { ok: true; value: string } | { ok: false; message: string };

/**
 * Normalises and validates one Secret value.
 *
 * Guarantees: leading and trailing whitespace and newlines are removed (what `kubectl create secret
 * --from-file` of an `echo`ed file adds); a value with a control character (tabs and newlines are allowed
 * inside a JSON file only) or a non-ASCII character, a value over its kind's limit, or a key file that is not
 * a service account's (type, client_email, a PEM private_key that parses) is refused. The message names the
 * Secret, the key and the position or field at fault, and never quotes the value.
 */
export function checkSecretValue(
  kind: SecretValueKind,
  raw: string,
  where: { secret: string; key: string },
): SecretValueCheck {
  const at = `Secret ${where.secret} key ${where.key}`;
  const refuse = (why: string): SecretValueCheck => ({ ok: false, message: `${at} ${why}` });
  const value = raw.trim();
  if (value === "") return refuse("holds only whitespace");
  const limit = SECRET_VALUE_LIMITS[kind];
  if (value.length > limit) {
    return refuse(`is ${value.length} characters long; ${KIND_WORDS[kind]} may have at most ${limit}`);
  }
  const json = kind === "serviceAccountJson";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const jsonSpace = json && (code === 0x09 || code === 0x0a || code === 0x0d);
    if ((code < 0x20 || code === 0x7f) && !jsonSpace) {
      return refuse(`has a control character (0x${code.toString(16).padStart(2, "0")}) at position ${i + 1}`);
    }
    if (code > 0x7e) return refuse(`has a non-ASCII character at position ${i + 1}`);
    if (code === 0x20 && !json) return refuse(`has a space at position ${i + 1}`);
  }
  return json ? checkServiceAccount(value, refuse) : { ok: true, value };
}

function checkServiceAccount(value: string, refuse: (why: string) => SecretValueCheck): SecretValueCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return refuse("is not JSON (expected a service account's JSON key file)");
  }
  const file = ServiceAccountFile.safeParse(parsed);
  if (!file.success) return refuse(`is not a service account key file: ${file.error.issues[0]?.message}`);
  try {
    createPrivateKey(file.data.private_key);
  } catch {
    return refuse("is not a service account key file: private_key is not a valid private key");
  }
  return { ok: true, value };
}
