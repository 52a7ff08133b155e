// The egress guard: user-supplied endpoints (Custom, and Azure's) may not reach cloud metadata or
// link-local addresses, before or after DNS, and a configured allow list narrows Custom endpoints further.

import type { LookupAddress } from "node:dns";
import { promises as dns } from "node:dns";
import { BlockList, isIP } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";

/** An address a hostname resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to every address (like `dns.lookup(host, {all: true})`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressGuardOptions {
  /**
   * Hosts (`ollama.ml.svc`, `*.models.example.com`), addresses or CIDRs (`10.0.0.0/8`, `fd00::/8`) that
   * Custom endpoints may reach. Empty: any host that is not refused. A CIDR entry that covers a link-local
   * range opts that range back in; nothing opts the metadata addresses back in.
   * @default []
   */
  allow?: readonly string[];
  /** @default node:dns lookup with all: true */
  resolve?: Resolver;
}

/** A permitted endpoint, pinned to the addresses that were checked. */
export interface EgressAllowed {
  allowed: true;
  url: URL;
  hostname: string;
  addresses: ResolvedAddress[];
}
export interface EgressRefused {
  allowed: false;
  reason: string;
  /** The host did not resolve: nothing was refused by policy, the endpoint is just not reachable (now). */
  unresolved?: true;
}
export type EgressDecision = EgressAllowed | EgressRefused;

/** Pinned keep-alive pools kept at once (least recently used closed first). */
const MAX_POOLS = 32;

/** A fetch whose connections go only to the pinned addresses; close it when done. */
export interface PinnedFetch {
  fetch: typeof fetch;
  close(): Promise<void>;
}

/**
 * Decides whether an endpoint may be reached, and pins the decision.
 *
 * Guarantees:
 * - Refused always: the cloud metadata addresses 169.254.169.254 and fd00:ec2::254.
 * - Refused unless an allow-list CIDR covers them: link-local 169.254.0.0/16 and fe80::/10.
 * - Checked after DNS: every address the hostname resolves to is checked; one refused address refuses.
 *   IPv4-mapped IPv6 addresses are checked as IPv4.
 * - Pinned: `pin(decision).fetch` connects only to the addresses that were checked (its DNS lookup is
 *   answered from the decision, so a second resolution cannot rebind the name), follows no redirects
 *   (a 3xx is answered to the caller), and checks any other hostname anew at connect time.
 * - Kept alive: checks reaching the same host at the same addresses share one connection pool (at most 32
 *   pools, least recently used closed first).
 * Assumptions: TLS still verifies the certificate against the URL's hostname (SNI is unchanged).
 * Caveats: an HTTP proxy in between would defeat pinning; the operator uses none.
 */
export interface EgressGuard {
  readonly allowList: readonly string[];
  /** Checks a URL. `enforceAllowList: false` applies only the refusals (Azure endpoints, token URIs). */
  check(url: string, options?: { enforceAllowList?: boolean; signal?: AbortSignal }): Promise<EgressDecision>;
  /** A fetch pinned to a permitted decision's addresses. */
  pin(decision: EgressAllowed, options?: { enforceAllowList?: boolean }): PinnedFetch;
}

/** Raised inside a pinned fetch when a connection would go somewhere the guard refuses. */
export class EgressDeniedError extends Error {
  override readonly name = "EgressDeniedError";
}

const METADATA: ReadonlyArray<[string, 4 | 6]> = [
  ["169.254.169.254", 4],
  ["fd00:ec2::254", 6],
];
const LINK_LOCAL: ReadonlyArray<[string, number, 4 | 6]> = [
  ["169.254.0.0", 16, 4],
  ["fe80::", 10, 6],
];

const systemResolver: Resolver = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((a: LookupAddress) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Creates a guard; throws for an allow-list entry that is neither a host, an address nor a CIDR. */
export function createEgressGuard(options: EgressGuardOptions = {}): EgressGuard {
  const allowList = [...(options.allow ?? [])];
  const resolve = options.resolve ?? systemResolver;
  const metadata = new BlockList();
  for (const [address, family] of METADATA) metadata.addAddress(address, ipv(family));
  const linkLocal = new BlockList();
  for (const [network, prefix, family] of LINK_LOCAL) linkLocal.addSubnet(network, prefix, ipv(family));

  const allowedNets = new BlockList();
  const allowedHosts: string[] = [];
  for (const raw of allowList) {
    const entry = raw.trim().toLowerCase();
    const [network, prefixText, extra] = entry.split("/");
    const family = isIP(network ?? "");
    if (family !== 0 && prefixText === undefined) {
      allowedNets.addAddress(network as string, ipv(family));
    } else if (family !== 0 && extra === undefined && /^\d{1,3}$/.test(prefixText ?? "")) {
      const prefix = Number(prefixText);
      if (prefix > (family === 4 ? 32 : 128))
        throw new Error(`egress allow entry "${raw}": prefix is too long`);
      allowedNets.addSubnet(network as string, prefix, ipv(family));
    } else if (/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(entry)) {
      allowedHosts.push(entry.replace(/\.$/, ""));
    } else {
      throw new Error(`egress allow entry "${raw}" is neither a hostname, an IP address nor a CIDR`);
    }
  }
  const hostAllowed = (host: string) =>
    allowedHosts.some((h) => (h.startsWith("*.") ? host.endsWith(h.slice(1)) : host === h));

  /** Why one address is refused, or undefined when it is not. */
  const refusal = (address: string, family: 4 | 6): string | undefined => {
    if (metadata.check(address, ipv(family))) return "a cloud metadata address";
    if (linkLocal.check(address, ipv(family)) && !allowedNets.check(address, ipv(family))) {
      return "a link-local address";
    }
    return undefined;
  };

  const check: EgressGuard["check"] = async (text, opts = {}) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { allowed: false, reason: "the endpoint is not a URL" };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { allowed: false, reason: `the endpoint's scheme ${url.protocol} is neither http nor https` };
    }
    const hostname = url.hostname
      .replace(/^\[|\]$/g, "")
      .toLowerCase()
      .replace(/\.$/, "");
    let addresses: ResolvedAddress[];
    const literal = isIP(hostname);
    if (literal !== 0) {
      addresses = [{ address: hostname, family: literal as 4 | 6 }];
    } else {
      try {
        addresses = await withAbort(resolve(hostname), opts.signal);
      } catch (error) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        return {
          allowed: false,
          unresolved: true,
          reason: `${hostname} does not resolve (${(error as { code?: string }).code ?? "error"})`,
        };
      }
    }
    addresses = addresses.map(normalise);
    if (addresses.length === 0) return { allowed: false, reason: `${hostname} resolves to no address` };
    for (const { address, family } of addresses) {
      const what = refusal(address, family);
      if (what) {
        const subject = literal === 0 ? `${hostname} resolves to ${address}, which` : address;
        return { allowed: false, reason: `${subject} is ${what} and is refused` };
      }
    }
    const enforce = opts.enforceAllowList ?? true;
    if (enforce && allowList.length > 0 && !hostAllowed(hostname)) {
      const outside = addresses.filter((a) => !allowedNets.check(a.address, ipv(a.family)));
      if (outside.length > 0) {
        const shown = outside.map((a) => a.address).join(", ");
        return {
          allowed: false,
          reason: `${hostname}${literal === 0 ? ` (${shown})` : ""} is not in the egress allow list`,
        };
      }
    }
    return { allowed: true, url, hostname, addresses };
  };

  // One keep-alive pool per pinned host and address set, reused by every check that reaches it (a thousand checks
  // of one server open a few sockets, not a thousand); a changed DNS answer is a new key, so pinning still holds.
  const pools = new Map<string, PinnedFetch>();
  const pin: EgressGuard["pin"] = (decision, opts = {}) => {
    const key = JSON.stringify([decision.hostname, opts.enforceAllowList ?? true, decision.addresses]);
    const known = pools.get(key);
    if (known) {
      pools.delete(key);
      pools.set(key, known);
      return known;
    }
    const made = pinnedFetch(decision, opts);
    pools.set(key, made);
    if (pools.size > MAX_POOLS) {
      const [oldest, pool] = pools.entries().next().value as [
        string,
        PinnedFetch & { destroy(): Promise<void> },
      ];
      pools.delete(oldest);
      void pool.destroy();
    }
    return made;
  };

  const pinnedFetch = (
    decision: EgressAllowed,
    opts: { enforceAllowList?: boolean },
  ): PinnedFetch & { destroy(): Promise<void> } => {
    const lookup = (
      hostname: string,
      options: { family?: number | string; all?: boolean },
      callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
    ) => {
      const answer = (addresses: ResolvedAddress[]) => {
        const wanted = Number(options.family ?? 0);
        const usable =
          wanted === 4 || wanted === 6 ? addresses.filter((a) => a.family === wanted) : addresses;
        const first = usable[0];
        if (!first)
          return callback(new EgressDeniedError(`${hostname}: no pinned address of family ${wanted}`), []);
        if (options.all)
          return callback(
            null,
            usable.map((a) => ({ address: a.address, family: a.family })),
          );
        return callback(null, first.address, first.family);
      };
      const host = hostname.toLowerCase().replace(/\.$/, "");
      if (host === decision.hostname) return answer(decision.addresses);
      check(`http://${host}/`, opts).then(
        (d) => (d.allowed ? answer(d.addresses) : callback(new EgressDeniedError(d.reason), [])),
        (error: Error) => callback(error, []),
      );
    };
    const agent = new Agent({ connect: { lookup } as never });
    const pinned = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      undiciFetch(
        input as never,
        { ...(init as object), redirect: "manual", dispatcher: agent } as never,
      )) as unknown as typeof fetch;
    // close() leaves the pool open for the next check of this host; it is closed when evicted.
    return { fetch: pinned, close: async () => undefined, destroy: () => agent.close() };
  };

  return { allowList, check, pin };
}

/** Finds an EgressDeniedError in an error's cause chain (fetch wraps connect errors). */
export function egressDenial(error: unknown): EgressDeniedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof EgressDeniedError) return current;
    current = current.cause;
  }
  return undefined;
}

function ipv(family: number): "ipv4" | "ipv6" {
  return family === 6 ? "ipv6" : "ipv4";
}

/** ::ffff:169.254.169.254 and ::ffff:a9fe:a9fe are 169.254.169.254. */
function normalise(a: ResolvedAddress): ResolvedAddress {
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a.address);
  if (dotted) return { address: dotted[1] as string, family: 4 };
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(a.address);
  if (!hex) return a;
  const high = Number.parseInt(hex[1] as string, 16);
  const low = Number.parseInt(hex[2] as string, 16);
  return { address: [high >> 8, high & 255, low >> 8, low & 255].join("."), family: 4 };
}

function withAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
