// Makes Pulumi's error output safe for status conditions and logs: removes every known secret value, then
// the usual token shapes, keeps the lines that say what failed, and bounds the length.
import { REDACTED, redactText } from "../log.ts";

const MAX_MESSAGE = 1024;

/**
 * `text` without any of `secrets` (exact values, also base64-encoded) nor token-like strings, reduced to
 * its `error:` lines when it has some, and cut to {@link MAX_MESSAGE} characters.
 */
export function redactPulumiMessage(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  const values = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  // Longest first, so a secret that contains another is removed whole.
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    for (const form of [value, Buffer.from(value).toString("base64"), JSON.stringify(value).slice(1, -1)]) {
      out = out.split(form).join(REDACTED);
    }
  }
  out = redactText(out);
  const errorLines = out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^(error|Error):/.test(line) || /^error: /.test(line));
  const summary =
    errorLines.length > 0 ? [...new Set(errorLines)].join(" ") : out.replace(/\s+/g, " ").trim();
  return summary.length > MAX_MESSAGE ? `${summary.slice(0, MAX_MESSAGE - 1)}…` : summary;
}
