// Pulumi's error text made fit for a condition: no known secret in any common encoding, no token shapes,
// the `error:` lines kept, and the length bounded.
import { describe, expect, it } from "vitest";
import { redactPulumiMessage } from "../../operator/azure/redact.ts";

const SECRET = "sp-Secret.Value~42";

describe("redactPulumiMessage", () => {
  it("removes known secrets, also base64- and JSON-encoded", () => {
    const text = [
      `error: login failed for secret ${SECRET}`,
      `error: header ${Buffer.from(SECRET).toString("base64")}`,
      `error: {"clientSecret":"${JSON.stringify(SECRET).slice(1, -1)}"}`,
    ].join("\n");
    const out = redactPulumiMessage(text, [SECRET]);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(Buffer.from(SECRET).toString("base64"));
    expect(out).toContain("login failed for secret");
  });

  it("removes token shapes it was not told about", () => {
    const out = redactPulumiMessage(
      "error: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
      [],
    );
    expect(out).not.toContain("eyJhbGciOiJIUzI1NiJ9");
  });

  it("keeps only the error lines of a CLI transcript, once each", () => {
    const transcript = [
      "code: 255",
      " stdout: Updating (dev):",
      "    pulumi:pulumi:Stack modelkeys-azure-dev running",
      " stderr: error: update failed",
      "error: update failed",
      "error: azure-native:cognitiveservices:Account acme: InsufficientQuota",
    ].join("\n");
    expect(redactPulumiMessage(transcript, [])).toBe(
      "error: update failed error: azure-native:cognitiveservices:Account acme: InsufficientQuota",
    );
  });

  it("keeps the whole text, on one line, when it has no error lines", () => {
    expect(redactPulumiMessage("spawn pulumi ENOENT\n  at x", [])).toBe("spawn pulumi ENOENT at x");
  });

  it("bounds the length", () => {
    expect(redactPulumiMessage(`error: ${"x".repeat(5000)}`, []).length).toBeLessThanOrEqual(1024);
  });
});
