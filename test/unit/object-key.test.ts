import { describe, expect, it } from "vitest";
import { formatKey, type ObjectKey, parseKey } from "../../operator/object-key.ts";

describe("ObjectKey", () => {
  const keys: ObjectKey[] = [
    { kind: "ProviderConnection", namespace: "ml", name: "openai" },
    { kind: "Organization", namespace: "team-a", name: "acme.example" },
  ];
  it.each(keys)("round-trips %o through its text form", (key) => {
    expect(parseKey(formatKey(key))).toEqual(key);
  });
  it.each(["", "ProviderConnection/ml", "Secret/ml/x", "ProviderConnection//x", "ProviderConnection/ml/x/y"])(
    "rejects %j",
    (text) => {
      expect(() => parseKey(text)).toThrow(/not an object key/);
    },
  );
});
