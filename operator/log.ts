// Structured JSON logs (pino) that cannot carry secrets: sensitive keys are censored at any depth and free text
// (messages, error messages and stacks) is scrubbed of secret shapes by the one scrubber (scrub.ts).
import { type DestinationStream, type Logger, pino } from "pino";
import type { LogLevel } from "./config.ts";
import { REDACTED, redactShapes } from "./scrub.ts";

export type { Logger } from "pino";

export { REDACTED };

/** Keys whose values are secrets wherever they appear (compared case-insensitively, `-` and `_` ignored). */
const SECRET_KEYS = [
  "apiKey",
  "api_key",
  "api-key",
  "x-api-key",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "auth_token",
  "authToken",
  "authorization",
  "password",
  "passphrase",
  "clientSecret",
  "client_secret",
  "google_application_credentials",
  "privateKey",
  "private_key",
  "cookie",
  "set-cookie",
];
const secretKeySet = new Set(SECRET_KEYS.map(normaliseKey));

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, "");
}

/** Scrubs free text of secret shapes: bearer/token values, JWTs, `sk-` and Google keys, `key=value`, PEM blocks. */
export const redactText: (text: string) => string = redactShapes;

/**
 * A copy of `value` with secret keys censored at any depth, every string scrubbed by {@link redactText}, the `data`
 * and `stringData` of a Secret object censored, and Errors turned into plain `{type, message, stack, code}`.
 */
export function redactValue(value: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value) || depth > 12) return "[Circular or too deep]";
  seen.add(value);
  if (value instanceof Error) {
    const err = value as Error & { code?: unknown; statusCode?: unknown; cause?: unknown };
    return redactValue(
      {
        type: err.name,
        message: err.message,
        stack: err.stack,
        ...(err.code !== undefined ? { code: err.code } : {}),
        ...(err.statusCode !== undefined ? { statusCode: err.statusCode } : {}),
        ...(err.cause !== undefined ? { cause: err.cause } : {}),
      },
      seen,
      depth + 1,
    );
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen, depth + 1));
  if (ArrayBuffer.isView(value)) return REDACTED;
  const isSecret = (value as { kind?: unknown }).kind === "Secret";
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (secretKeySet.has(normaliseKey(key)) && v !== undefined && v !== null && v !== "") out[key] = REDACTED;
    else if (isSecret && (key === "data" || key === "stringData")) out[key] = REDACTED;
    else out[key] = redactValue(v, seen, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout (synchronous, so nothing is lost at process.exit) by default. Tests pass a stream. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. `{replica: identity}`. */
  base?: Record<string, unknown>;
}

/**
 * A pino JSON logger whose output carries no secrets.
 *
 * Guarantees: values under secret-named keys (apiKey, token, authorization, password, private_key, …) are
 * `[REDACTED]` at any depth, in the merged object and in child bindings; messages, error messages and stacks are
 * scrubbed by {@link redactText}; a logged Kubernetes Secret shows no data.
 * Assumptions: callers log fingerprints, not values; a secret under an innocent key in free text without a
 * recognisable shape (a bare random string) cannot be recognised, so never pass secret values to a logger at all.
 * Caveats: the deep scrub copies each logged object, which is fine for an operator's volume of lines.
 */
export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      // No pino `redact` paths on top: formatters.log has censored every secret key at any depth before pino
      // stringifies (child bindings: below), and pino 10's redaction re-parsed its paths on every line, a tenth of
      // the operator's allocations in the scale benchmark, for nothing left to censor.
      // formatters.log already turned Errors into scrubbed plain objects; pino's own err serializer would re-wrap them.
      serializers: { err: (err: unknown) => redactValue(err) },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactValue(obj) as Record<string, unknown>,
        bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // log.error(err) makes err.message the line's message; spell that out so it is scrubbed too.
          const [first, ...rest] = args as unknown[];
          const spelled =
            first instanceof Error
              ? [{ err: first }, typeof rest[0] === "string" ? rest.shift() : first.message, ...rest]
              : args;
          const scrubbed = spelled.map((a) => (typeof a === "string" ? redactText(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // pino gives children an identity bindings formatter: scrub their bindings on the way in. Every descendant
  // inherits this `child` from the root instance (pino makes children with Object.create(parent)).
  const child = logger.child;
  logger.child = function scrubbedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactValue(bindings) as typeof bindings, childOptions);
  } as typeof child;
  return logger;
}
