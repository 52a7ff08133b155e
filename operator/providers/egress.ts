// The egress guard for every destination the operator reaches or writes (the Organization's URL, provider
// endpoints, endpoints pushed to the app): no cloud metadata or link-local address, in any spelling, before or
// after DNS; a configured allow list narrows Custom endpoints further.

import type { LookupAddress, LookupOptions } from "node:dns";
import { promises as dns } from "node:dns";
import { BlockList, isIP } from "node:net";
import { Agent } from "undici";
import { dispatcherFetch } from "../dispatcher-fetch.ts";

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

/**
 * Pinned keep-alive pools kept at once (least recently used closed first). A fleet reaches many endpoint hosts:
 * an evicted pool costs its next check a new connection (and TLS handshake), and an idle pool holds no socket for
 * long (undici closes idle sockets after a few seconds), so this is sized for fleets, not for a handful.
 */
const MAX_POOLS = 1024;

/**
 * The largest provider answer read (8 MiB: a model list is tens of KiB). Endpoints are users' input: without a
 * bound, one endpoint that streams gigabytes within the check's time limit would exhaust the operator's memory and
 * stop every connection of every organization. A larger answer fails the check (Unavailable, retried with backoff).
 */
export const MAX_PROVIDER_ANSWER_BYTES = 8 * 1024 * 1024;

/** A fetch whose connections go only to the pinned addresses; close it when done. */
export interface PinnedFetch {
  fetch: typeof fetch;
  close(): Promise<void>;
}

/**
 * Decides whether an endpoint may be reached, and pins the decision.
 *
 * Guarantees:
 * - Refused always: the cloud metadata addresses 169.254.169.254 (AWS, GCP, Azure, OpenStack), fd00:ec2::254
 *   (AWS over IPv6), 100.100.100.200 (Alibaba Cloud) and 168.63.129.16 (Azure's WireServer).
 * - Every spelling counts: decimal, hex, octal and short IPv4 (normalised by URL parsing), and IPv4 carried in
 *   IPv6 (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16).
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
  /** The hooks a long-lived client (the app's) needs to keep each of its connections inside the guard. */
  connections(options?: { enforceAllowList?: boolean }): ConnectionGuard;
  /**
   * A fetch for fixed provider hosts (api.openai.com, …): the refusals apply to every connection it opens
   * (one shared keep-alive pool), and it follows no redirects. A refusal rejects with an EgressDeniedError cause.
   */
  readonly fetch: typeof fetch;
}

/**
 * For a client that keeps its own connection pool.
 *
 * Guarantees: `lookup` (undici's `connect.lookup`) resolves a name once per connection, checks every address
 * and answers only checked ones, so the socket goes to an address that was checked (a name that resolves
 * differently on a second lookup is never looked up twice); a refused name fails the connection with an
 * EgressDeniedError. `refusal` covers what no lookup sees: a URL whose host is an IP literal.
 */
export interface ConnectionGuard {
  lookup: (
    hostname: string,
    options: LookupOptions,
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => void;
  /** Why a URL is refused before any connection (a literal refused address, a bad scheme), or undefined. */
  refusal(url: URL): string | undefined;
}

/** Raised inside a pinned fetch when a connection would go somewhere the guard refuses. */
export class EgressDeniedError extends Error {
  override readonly name = "EgressDeniedError";
}

const METADATA: ReadonlyArray<[string, 4 | 6]> = [
  ["169.254.169.254", 4],
  ["fd00:ec2::254", 6],
  ["100.100.100.200", 4],
  ["168.63.129.16", 4],
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
    if (addresses.length === 0) return { allowed: false, reason: `${hostname} resolves to no address` };
    // Checked as the IPv4 address they carry; connected to as resolved (a NAT64 address stays one).
    for (const { address, family } of addresses.map(normalise)) {
      const what = refusal(address, family);
      if (what) {
        const subject = literal === 0 ? `${hostname} resolves to ${address}, which` : address;
        return { allowed: false, reason: `${subject} is ${what} and is refused` };
      }
    }
    const enforce = opts.enforceAllowList ?? true;
    if (enforce && allowList.length > 0 && !hostAllowed(hostname)) {
      const outside = addresses.map(normalise).filter((a) => !allowedNets.check(a.address, ipv(a.family)));
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
    const agent = new Agent({ connect: { lookup } as never, maxResponseSize: MAX_PROVIDER_ANSWER_BYTES });
    const pinned = dispatcherFetch(agent);
    // close() leaves the pool open for the next check of this host; it is closed when evicted.
    return { fetch: pinned, close: async () => undefined, destroy: () => agent.close() };
  };

  const connections: EgressGuard["connections"] = (opts = {}) => ({
    lookup: (hostname, options, callback) => {
      check(`http://${hostname.includes(":") ? `[${hostname}]` : hostname}/`, opts).then(
        (d) => {
          if (!d.allowed) return callback(new EgressDeniedError(d.reason), []);
          const wanted = Number(options.family ?? 0);
          const usable =
            wanted === 4 || wanted === 6 ? d.addresses.filter((a) => a.family === wanted) : d.addresses;
          const first = usable[0];
          if (!first)
            return callback(new EgressDeniedError(`${hostname}: no checked address of family ${wanted}`), []);
          if (options.all)
            return callback(
              null,
              usable.map((a) => ({ address: a.address, family: a.family })),
            );
          return callback(null, first.address, first.family);
        },
        (error: Error) => callback(error, []),
      );
    },
    refusal: (url) => {
      if (url.protocol !== "http:" && url.protocol !== "https:")
        return `the scheme ${url.protocol} is neither http nor https`;
      const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
      const family = isIP(host);
      if (family === 0) return undefined;
      const { address, family: f } = normalise({ address: host, family: family as 4 | 6 });
      const what = refusal(address, f);
      return what ? `${host} is ${what} and is refused` : undefined;
    },
  });

  // Created on first use: most guards (tests, the app client's) never fetch through it.
  let shared: { fetch: typeof fetch; hooks: ConnectionGuard } | undefined;
  const guardedFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    shared ??= (() => {
      const hooks = connections({ enforceAllowList: false });
      const agent = new Agent({
        connect: { lookup: hooks.lookup } as never,
        maxResponseSize: MAX_PROVIDER_ANSWER_BYTES,
      });
      return { hooks, fetch: dispatcherFetch(agent) };
    })();
    const target = new URL(input instanceof Request ? input.url : String(input));
    const refused = shared.hooks.refusal(target);
    if (refused !== undefined) {
      return Promise.reject(new TypeError("fetch failed", { cause: new EgressDeniedError(refused) }));
    }
    return shared.fetch(input, init);
  }) as unknown as typeof fetch;

  return { allowList, check, pin, connections, fetch: guardedFetch };
}

/** An error and its causes, outermost first, five deep at most (fetch and the SDKs wrap transport errors). */
function* causeChain(error: unknown): Generator<Error> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    yield current;
    current = current.cause;
  }
}

/** Whether an error's cause chain holds undici's "answer larger than maxResponseSize". */
export function answerTooLarge(error: unknown): boolean {
  for (const cause of causeChain(error))
    if ((cause as Error & { code?: unknown }).code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") return true;
  return false;
}

/** Finds an EgressDeniedError in an error's cause chain (fetch wraps connect errors). */
export function egressDenial(error: unknown): EgressDeniedError | undefined {
  for (const cause of causeChain(error)) if (cause instanceof EgressDeniedError) return cause;
  return undefined;
}

function ipv(family: number): "ipv4" | "ipv6" {
  return family === 6 ? "ipv6" : "ipv4";
}

/**
 * IPv4 carried in an IPv6 address, as the IPv4 address: ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated),
 * ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64) and 2002:AABB:CCDD:: (6to4). Others are returned as they are.
 */
export function normalise(a: ResolvedAddress): ResolvedAddress {
  if (a.family !== 6) return a;
  const words = ipv6Words(a.address);
  if (!words) return a;
  const v4 = (high: number, low: number): ResolvedAddress => ({
    address: [high >> 8, high & 255, low >> 8, low & 255].join("."),
    family: 4,
  });
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  const [w0, w1, w2, , , w5, w6, w7] = words as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (zeros(0, 5) && w5 === 0xffff) return v4(w6, w7); // mapped
  if (zeros(0, 4) && words[4] === 0xffff && w5 === 0) return v4(w6, w7); // translated
  if (zeros(0, 6) && (w6 !== 0 || w7 > 1)) return v4(w6, w7); // compatible (not :: or ::1)
  if (w0 === 0x64 && w1 === 0xff9b && zeros(2, 6)) return v4(w6, w7); // NAT64 well-known prefix
  if (w0 === 0x2002) return v4(w1, w2); // 6to4
  return a;
}

/** The eight 16-bit words of an IPv6 address (a trailing dotted IPv4 part included), or undefined. */
function ipv6Words(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return undefined;
  const part = (s: string | undefined) => (s ? s.split(":").map((w) => Number.parseInt(w, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const words = [...left, ...new Array(Math.max(fill, 0)).fill(0), ...right];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)
    ? words
    : undefined;
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
