// IPv4 address and CIDR handling for an account's network rules: parse, canonicalise, merge with the app's
// addresses, deduplicate and order, so the same intent always yields the same list (no diff churn).
import { APP_ADDRESSES } from "../labelstudio/app-addresses.ts";

/** One parsed IPv4 rule: a network address and its prefix length (32 for a single address). */
interface Ipv4Rule {
  readonly address: number;
  readonly prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

function parseAddress(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * Why `text` is not an IPv4 address or CIDR range Azure accepts, or undefined when it is.
 * A CIDR with host bits set (10.0.0.1/24) is refused rather than silently widened or narrowed; a /31 is
 * refused because Azure takes no /31 range (its two addresses are two rules); /32 is one address.
 * The API server applies the same rules in CEL (crds/azureopenaiaccount.ts).
 */
export function ipRuleProblem(text: string): string | undefined {
  const [addressText = "", prefixText, ...rest] = text.split("/");
  const address = parseAddress(addressText);
  if (address === undefined || rest.length > 0) return `"${text}" is not an IPv4 address or CIDR range`;
  if (prefixText === undefined) return undefined;
  if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) {
    return `"${text}" has an invalid prefix length (0-32)`;
  }
  const prefix = Number(prefixText);
  if (prefix === 31) return `"${text}": Azure takes no /31 range; list its two addresses instead`;
  const network = maskAddress(address, prefix);
  if (network !== address) {
    return `"${text}" has host bits set; the range is ${formatAddress(network)}/${prefix}`;
  }
  return undefined;
}

/**
 * Private and reserved IPv4 ranges: an account's IP rules admit public Internet addresses, so a rule that
 * overlaps one of these (0.0.0.0/0 overlaps them all) is refused unless the account explicitly allows it.
 * RFC 1918 private ranges (Azure itself refuses them in IP rules), "this network", shared address space
 * (carrier-grade NAT), loopback, link-local, multicast and the reserved 240.0.0.0/4.
 */
export const PRIVATE_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "224.0.0.0/4",
  "240.0.0.0/4",
] as const;

/** The first private or reserved range that a valid rule overlaps, or undefined for a public one. */
export function privateRangeOf(text: string): string | undefined {
  const rule = parseRule(text);
  return PRIVATE_RANGES.find((range) => {
    const reserved = parseRule(range);
    // Two CIDR blocks overlap exactly when the wider one holds the narrower one's network address.
    const prefix = Math.min(rule.prefix, reserved.prefix);
    return maskAddress(rule.address, prefix) === maskAddress(reserved.address, prefix);
  });
}

function maskAddress(address: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return address - (address % size);
}

function parseRule(text: string): Ipv4Rule {
  const problem = ipRuleProblem(text);
  if (problem) throw new Error(problem);
  const [addressText = "", prefixText] = text.split("/");
  return {
    address: parseAddress(addressText) as number,
    prefix: prefixText === undefined ? 32 : Number(prefixText),
  };
}

/** The canonical spelling Azure stores: a bare address for /32, otherwise network/prefix. */
export function canonicalIpRule(text: string): string {
  const rule = parseRule(text);
  return rule.prefix === 32 ? formatAddress(rule.address) : `${formatAddress(rule.address)}/${rule.prefix}`;
}

/**
 * The account's IP rules: the app's addresses plus `extra`, canonical, deduplicated and sorted by address
 * then prefix length.
 *
 * Guarantees: the app's three addresses are always present; the result depends only on the set of
 * inputs, not their order or spelling (10.0.0.5 and 10.0.0.5/32 are one rule).
 * Caveats: throws on an invalid entry; callers validate first to report every problem at once.
 */
export function allowedIpRules(extra: readonly string[]): string[] {
  const rules = new Map<string, Ipv4Rule>();
  for (const text of [...APP_ADDRESSES, ...extra]) {
    const rule = parseRule(text);
    rules.set(`${rule.address}/${rule.prefix}`, rule);
  }
  return [...rules.values()]
    .sort((a, b) => a.address - b.address || a.prefix - b.prefix)
    .map((rule) =>
      rule.prefix === 32 ? formatAddress(rule.address) : `${formatAddress(rule.address)}/${rule.prefix}`,
    );
}
