// The one scrubber: no run of 8 characters of a secret survives, whole or cut, URL-encoded or base64.
import { describe, expect, it } from "vitest";
import { REDACTED, scrubMessage, scrubText } from "../../operator/scrub.ts";

const KEY = "Zq81mXv0PLk3RtY2uW9e+/Hn5Tqa";

/** Every window of 8 characters of each form of the key. */
function windows(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 8 <= value.length; i++) out.push(value.slice(i, i + 8));
  return out;
}

const FORMS = [
  KEY,
  encodeURIComponent(KEY),
  Buffer.from(KEY).toString("base64"),
  Buffer.from(KEY).toString("base64url"),
];

describe("scrubText", () => {
  it.each([
    ["whole", (k: string) => `the key ${k} was refused`],
    ["without its last characters", (k: string) => `key ${k.slice(0, -3)} is wrong`],
    ["without its first characters", (k: string) => `key …${k.slice(5)}`],
    ["a middle piece", (k: string) => `saw "${k.slice(4, 14)}" in the request`],
    ["twice, glued to words", (k: string) => `x${k.slice(0, 9)}y${k.slice(-9)}z`],
  ])("removes the key %s, in every form", (_name, echo) => {
    for (const form of FORMS) {
      const out = scrubText(echo(form), [KEY]);
      expect(out).toContain(REDACTED);
      for (const piece of FORMS.flatMap(windows)) expect(out).not.toContain(piece);
    }
  });

  it("leaves ordinary text alone", () => {
    const text = "the app rejected the connection: provider is not a valid choice";
    expect(scrubText(text, [KEY])).toBe(text);
  });

  it("ignores empty and missing secrets", () => {
    expect(scrubText("nothing here", ["", undefined])).toBe("nothing here");
  });
});

describe("scrubMessage", () => {
  it("collapses whitespace and cuts long text, still without the key", () => {
    const out = scrubMessage(`a\n\n b ${"x".repeat(1000)} ${KEY.slice(2)}`, [KEY]);
    expect(out.startsWith("a b x")).toBe(true);
    expect(out.length).toBeLessThanOrEqual(300);
    for (const piece of windows(KEY)) expect(out).not.toContain(piece);
  });
});
