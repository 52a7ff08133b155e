// Secret values: trimmed, and refused (naming the Secret and key, never quoting the value) when they cannot work.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkSecretValue, SECRET_VALUE_LIMITS } from "../../operator/reconcile/secret-values.ts";

const WHERE = { secret: "openai", key: "api-key" };
const PEM = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();
const keyFile = (fields: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      type: "service_account",
      project_id: "acme-ml",
      private_key_id: "abc123",
      private_key: PEM,
      client_email: "sa@acme-ml.iam.gserviceaccount.com",
      ...fields,
    },
    null,
    2,
  );

describe("checkSecretValue", () => {
  it.each([
    ["a trailing newline", "sk-abc123\n", "sk-abc123"],
    ["CRLF and spaces around", "  sk-abc123\r\n", "sk-abc123"],
    ["tabs around", "\tsk-abc123\t", "sk-abc123"],
  ])("trims %s", (_name, raw, expected) => {
    expect(checkSecretValue("apiKey", raw, WHERE)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["only whitespace", " \n ", "holds only whitespace"],
    ["a NUL byte", "sk-abc\u0000123", "control character (0x00) at position 7"],
    ["an inner newline", "sk-abc\n123", "control character (0x0a)"],
    ["an escape sequence", "sk-\u001b[31mabc", "control character (0x1b)"],
    ["DEL", "sk-abc\u007f", "control character (0x7f)"],
    ["a non-ASCII letter", "sk-abcé123", "non-ASCII character at position 7"],
    ["a zero-width space", "sk-abc\u200b123", "non-ASCII character"],
    ["a homoglyph", "sk-аbc123", "non-ASCII character"],
    ["an inner space", "sk-abc 123", "a space at position 7"],
    ["a 1 MB value", "k".repeat(1024 * 1024), `may have at most ${SECRET_VALUE_LIMITS.apiKey}`],
  ])("refuses an API key with %s", (_name, raw, why) => {
    const checked = checkSecretValue("apiKey", raw, WHERE);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.message).toContain("Secret openai key api-key");
    expect(checked.message).toContain(why);
    expect(checked.message).not.toContain("abc");
  });

  it("allows a token up to its own, larger limit", () => {
    const jwt = `eyJ${"a".repeat(3000)}`;
    expect(checkSecretValue("apiKey", jwt, WHERE).ok).toBe(false);
    expect(checkSecretValue("authToken", jwt, WHERE).ok).toBe(true);
  });

  it("accepts a real service-account key file, newlines and indentation included", () => {
    const file = `${keyFile()}\n`;
    expect(checkSecretValue("serviceAccountJson", file, WHERE)).toEqual({ ok: true, value: file.trim() });
  });

  it.each([
    ["not JSON", "{type: service_account", "is not JSON"],
    ["another type", keyFile({ type: "authorized_user" }), 'type must be "service_account"'],
    ["no client_email", keyFile({ client_email: undefined }), "client_email is missing"],
    ["a bad client_email", keyFile({ client_email: "nobody" }), "client_email is not an email address"],
    [
      "a placeholder private_key",
      keyFile({
        private_key: "-----BEGIN PRIVATE KEY-----\nREPLACE-WITH-PRIVATE-KEY\n-----END PRIVATE KEY-----\n",
      }),
      "private_key is not a PEM private key",
    ],
    [
      "a PEM that does not parse",
      keyFile({ private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }),
      "private_key is not a valid private key",
    ],
    ["a 100 KB file", keyFile({ padding: "x".repeat(100_000) }), "may have at most"],
    ["a non-ASCII project", keyFile({ project_id: "acmé" }), "non-ASCII character"],
  ])("refuses a key file with %s", (_name, raw, why) => {
    const checked = checkSecretValue("serviceAccountJson", raw, {
      secret: "vertexai",
      key: "credentials.json",
    });
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.message).toContain("Secret vertexai key credentials.json");
      expect(checked.message).toContain(why);
      expect(checked.message).not.toContain("BEGIN");
    }
  });
});
