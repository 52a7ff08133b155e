// The account's IP rules: validation of IPv4 addresses and CIDR ranges, and the merged, canonical,
// deduplicated, order-independent list that always holds the app's addresses.
import { describe, expect, it } from "vitest";
import { APP_ADDRESSES } from "../../labelstudio/app-addresses.ts";
import { allowedIpRules, canonicalIpRule, ipRuleProblem } from "../../pulumi/network-rules.ts";

describe("ipRuleProblem", () => {
  it.each([
    "0.0.0.0",
    "203.0.113.10",
    "255.255.255.255",
    "10.0.0.0/8",
    "198.51.100.0/24",
    "0.0.0.0/0",
    "1.2.3.4/32",
  ])("accepts %s", (text) => expect(ipRuleProblem(text)).toBeUndefined());

  it.each([
    ["256.1.1.1", /not an IPv4/],
    ["1.2.3", /not an IPv4/],
    ["1.2.3.4.5", /not an IPv4/],
    ["01.2.3.4", /not an IPv4/],
    ["1.2.3.4/", /invalid prefix length/],
    ["1.2.3.4/33", /invalid prefix length/],
    ["1.2.3.4/08", /invalid prefix length/],
    ["10.0.0.0/8/1", /not an IPv4/],
    ["::1", /not an IPv4/],
    ["", /not an IPv4/],
    ["10.0.0.1/8", /host bits set; the range is 10\.0\.0\.0\/8/],
  ])("refuses %s", (text, message) => expect(ipRuleProblem(text)).toMatch(message));
});

describe("allowedIpRules", () => {
  it("is the app's three addresses when nothing is added", () => {
    expect(allowedIpRules([])).toEqual([...APP_ADDRESSES].sort(byNumericAddress));
  });

  it("adds extras, canonical and deduplicated, sorted by address then prefix", () => {
    expect(
      allowedIpRules(["203.0.113.10/32", "203.0.113.10", "10.0.0.0/16", "10.0.0.0/8", "34.237.73.3"]),
    ).toEqual(["3.219.3.197", "10.0.0.0/8", "10.0.0.0/16", "34.237.73.3", "44.216.17.242", "203.0.113.10"]);
  });

  it("does not depend on the order of the extras", () => {
    const extras = ["198.51.100.0/24", "203.0.113.7", "192.0.2.1"];
    expect(allowedIpRules(extras)).toEqual(allowedIpRules([...extras].reverse()));
  });

  it("throws on an invalid extra", () => {
    expect(() => allowedIpRules(["10.0.0.300"])).toThrow(/"10.0.0.300" is not an IPv4/);
  });

  it("spells /32 as a bare address", () => {
    expect(canonicalIpRule("192.0.2.1/32")).toBe("192.0.2.1");
    expect(canonicalIpRule("192.0.2.0/24")).toBe("192.0.2.0/24");
  });
});

function byNumericAddress(a: string, b: string): number {
  const value = (s: string) => s.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return value(a) - value(b);
}
