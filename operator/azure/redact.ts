// Makes Pulumi's error output safe for status conditions and logs: removes every known secret value, then
// the usual token shapes, keeps the lines that say what failed, and bounds the length.
import { redactText, removeSecrets } from "./ports.ts";

const MAX_MESSAGE = 1024;

/**
 * `text` without any of `secrets` (whole: as written, URL- or base64-encoded, JSON-escaped) nor token-like
 * strings, reduced to its `error:` lines when it has some, and cut to {@link MAX_MESSAGE} characters.
 */
export function redactPulumiMessage(text: string, secrets: readonly (string | undefined)[]): string {
  const values = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  // JSON-escaped too: Pulumi prints values inside JSON documents.
  let out = removeSecrets(text, [...values, ...values.map((v) => JSON.stringify(v).slice(1, -1))]);
  out = redactText(out);
  const errorLines = out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^(error|Error):/.test(line) || /^error: /.test(line));
  const summary =
    errorLines.length > 0 ? [...new Set(errorLines)].join(" ") : out.replace(/\s+/g, " ").trim();
  return summary.length > MAX_MESSAGE ? `${summary.slice(0, MAX_MESSAGE - 1)}…` : summary;
}
