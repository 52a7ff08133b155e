// The egress guard: metadata and link-local refused (literal and after DNS), allow lists, and pinning.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEgressGuard, type ResolvedAddress, type Resolver } from "../../operator/providers/egress.ts";

/** A resolver answering from a table, counting lookups. */
function table(entries: Record<string, ResolvedAddress[]>): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolve = async (hostname: string) => {
    lookups.push(hostname);
    const found = entries[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found;
  };
  return Object.assign(resolve, { lookups });
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

describe("egress guard: refusals", () => {
  const resolve = table({
    "metadata.evil.test": [v4("169.254.169.254")],
    "linklocal.evil.test": [v4("169.254.10.20")],
    "mixed.evil.test": [v4("10.1.2.3"), v4("169.254.169.254")],
    "mapped.evil.test": [v6("::ffff:169.254.169.254")],
    "v6meta.evil.test": [v6("fd00:ec2::254")],
    "ollama.ml.svc": [v4("10.96.0.12")],
  });
  const guard = createEgressGuard({ resolve });

  it.each([
    ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is a cloud metadata address/],
    ["http://[fd00:ec2::254]/", /cloud metadata/],
    ["http://169.254.1.1:8080/v1", /link-local/],
    ["http://[fe80::1]/v1", /link-local/],
    ["http://[::ffff:169.254.169.254]/", /cloud metadata/],
    ["http://2852039166/", /cloud metadata/], // 169.254.169.254 as one number
    [
      "http://metadata.evil.test/v1",
      /metadata\.evil\.test resolves to 169\.254\.169\.254, which is a cloud metadata address/,
    ],
    ["http://linklocal.evil.test/v1", /resolves to 169\.254\.10\.20, which is a link-local address/],
    ["http://mixed.evil.test/v1", /resolves to 169\.254\.169\.254/],
    ["http://mapped.evil.test/v1", /cloud metadata/],
    ["http://v6meta.evil.test/v1", /cloud metadata/],
    ["http://nowhere.evil.test/v1", /does not resolve \(ENOTFOUND\)/],
    ["file:///etc/passwd", /neither http nor https/],
    ["not a url", /not a URL/],
  ])("%s is refused", async (url, reason) => {
    const decision = await guard.check(url);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.reason).toMatch(reason);
  });

  it("an ordinary in-cluster host passes, pinned to its addresses", async () => {
    const decision = await guard.check("http://ollama.ml.svc:11434/v1");
    expect(decision).toMatchObject({
      allowed: true,
      hostname: "ollama.ml.svc",
      addresses: [v4("10.96.0.12")],
    });
  });

  it("the system resolver is used by default: localhost resolves and passes", async () => {
    const decision = await createEgressGuard().check("http://localhost:8080/v1");
    expect(decision.allowed).toBe(true);
  });
});

describe("egress guard: allow list", () => {
  const resolve = table({
    "ollama.ml.svc": [v4("10.96.0.12")],
    "api.models.example.com": [v4("203.0.113.7")],
    "elsewhere.example.org": [v4("198.51.100.9")],
    "internal.example.org": [v4("10.20.30.40")],
    "imds.example.org": [v4("169.254.169.254")],
  });
  const guard = createEgressGuard({
    allow: ["ollama.ml.svc", "*.models.example.com", "10.0.0.0/8", "169.254.0.0/16"],
    resolve,
  });

  it.each([
    ["http://ollama.ml.svc:11434/v1", true],
    ["https://api.models.example.com/v1", true],
    ["https://models.example.com/v1", false], // the wildcard covers subdomains only
    ["https://elsewhere.example.org/v1", false],
    ["https://internal.example.org/v1", true], // by CIDR after resolution
    ["http://10.1.1.1/v1", true],
    ["http://169.254.7.7/v1", true], // link-local opted back in by an explicit CIDR
    ["http://169.254.169.254/v1", false], // metadata never
    ["http://imds.example.org/v1", false],
  ])("%s → allowed %s", async (url, allowed) => {
    expect((await guard.check(url)).allowed).toBe(allowed);
  });

  it("enforceAllowList: false applies only the refusals", async () => {
    expect((await guard.check("https://elsewhere.example.org/v1", { enforceAllowList: false })).allowed).toBe(
      true,
    );
    expect((await guard.check("http://169.254.169.254/", { enforceAllowList: false })).allowed).toBe(false);
  });

  it.each(["10.0.0.0/33", "not a host!", "10.0.0.0/8/1", "http://x"])(
    "rejects the allow entry %s",
    (entry) => {
      expect(() => createEgressGuard({ allow: [entry] })).toThrow(/egress allow entry/);
    },
  );
});

describe("egress guard: pinning", () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/redirect") {
        res.writeHead(302, { location: "http://169.254.169.254/" });
        res.end();
        return;
      }
      res.end(JSON.stringify({ host: req.headers.host }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("connects to the checked address; a later answer of the resolver (rebinding) is never asked", async () => {
    let answers = 0;
    const rebinding: Resolver = async () => (answers++ === 0 ? [v4("127.0.0.1")] : [v4("169.254.169.254")]);
    const guard = createEgressGuard({ resolve: rebinding });
    const decision = await guard.check(`http://rebind.test:${port}/v1`);
    if (!decision.allowed) throw new Error(decision.reason);
    const pinned = guard.pin(decision);
    try {
      const first = await pinned.fetch(`http://rebind.test:${port}/a`);
      const second = await pinned.fetch(`http://rebind.test:${port}/b`);
      expect(await first.json()).toEqual({ host: `rebind.test:${port}` });
      expect(second.status).toBe(200);
      expect(answers).toBe(1);
    } finally {
      await pinned.close();
    }
  });

  it("does not follow redirects", async () => {
    const guard = createEgressGuard();
    const decision = await guard.check(`http://127.0.0.1:${port}/`);
    if (!decision.allowed) throw new Error(decision.reason);
    const pinned = guard.pin(decision);
    try {
      const response = await pinned.fetch(`http://127.0.0.1:${port}/redirect`);
      expect(response.status).toBe(302);
    } finally {
      await pinned.close();
    }
  });

  it("another hostname through a pinned fetch is checked anew, and refused when it resolves badly", async () => {
    const resolve = table({ "good.test": [v4("127.0.0.1")], "bad.test": [v4("169.254.169.254")] });
    const guard = createEgressGuard({ resolve });
    const decision = await guard.check(`http://good.test:${port}/`);
    if (!decision.allowed) throw new Error(decision.reason);
    const pinned = guard.pin(decision);
    try {
      await expect(pinned.fetch(`http://bad.test:${port}/`)).rejects.toSatisfy((error: Error) =>
        /cloud metadata/.test(String((error.cause as Error | undefined)?.message)),
      );
    } finally {
      await pinned.close();
    }
  });
});

describe("egress guard: every spelling of a refused address", () => {
  const guard = createEgressGuard({ resolve: table({}) });

  it.each([
    "http://0xA9FEA9FE/", // hex
    "http://0xa9.0xfe.0xa9.0xfe/", // hex per part
    "http://0251.0376.0251.0376/", // octal
    "http://169.254.43518/", // short form
    "http://169.254.169.254./", // trailing dot
    "http://[::ffff:a9fe:a9fe]/", // IPv4-mapped, hex
    "http://[0:0:0:0:0:ffff:169.254.169.254]/", // IPv4-mapped, long
    "http://[::ffff:0:a9fe:a9fe]/", // IPv4-translated
    "http://[::169.254.169.254]/", // IPv4-compatible
    "http://[64:ff9b::169.254.169.254]/", // NAT64
    "http://[2002:a9fe:a9fe::1]/", // 6to4
    "http://[FD00:EC2::254]/", // AWS IPv6, upper case
    "http://[fd00:ec2:0:0:0:0:0:254]/", // AWS IPv6, long
    "http://100.100.100.200/", // Alibaba Cloud
    "http://168.63.129.16/", // Azure WireServer
    "https://user:pass@169.254.169.254:443/", // with user info
  ])("%s is refused as cloud metadata", async (url) => {
    const decision = await guard.check(url);
    expect(decision.allowed, url).toBe(false);
    if (!decision.allowed) expect(decision.reason).toMatch(/cloud metadata/);
    expect(guard.connections().refusal(new URL(url))).toMatch(/cloud metadata/);
  });

  it.each(["http://[::ffff:169.254.1.1]/", "http://[64:ff9b::a9fe:101]/", "http://0xa9fe0101/"])(
    "%s is refused as link-local",
    async (url) => {
      const decision = await guard.check(url);
      expect(decision.allowed).toBe(false);
      if (!decision.allowed) expect(decision.reason).toMatch(/link-local/);
    },
  );

  it.each(["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/", "http://[2001:db8::1]/"])(
    "%s passes",
    async (url) => {
      expect((await guard.check(url)).allowed).toBe(true);
      expect(guard.connections().refusal(new URL(url))).toBeUndefined();
    },
  );
});

describe("egress guard: a client's connections", () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("resolve once per connection, connect to what was checked, and refuse a name that rebinds", async () => {
    // The first answer is fine; the name then rebinds to the metadata address.
    const answers = [[v4("127.0.0.1")], [v4("169.254.169.254")]];
    const lookups: string[] = [];
    const guard = createEgressGuard({
      resolve: async (hostname) => {
        lookups.push(hostname);
        return answers[Math.min(lookups.length - 1, answers.length - 1)] as ResolvedAddress[];
      },
    });
    const { Agent, fetch } = await import("undici");
    const hooks = guard.connections();
    const first = new Agent({ connect: { lookup: hooks.lookup } as never });
    const second = new Agent({ connect: { lookup: hooks.lookup } as never });
    try {
      const ok = await fetch(`http://app.test:${port}/`, { dispatcher: first });
      expect(await ok.text()).toBe("ok");
      expect(lookups).toEqual(["app.test"]);
      await expect(fetch(`http://app.test:${port}/`, { dispatcher: second })).rejects.toSatisfy(
        (error: Error) => /cloud metadata/.test(String((error.cause as Error | undefined)?.message)),
      );
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe("egress guard: fixed provider hosts", () => {
  it("the guard's fetch refuses a metadata address, literal or behind a name, before connecting", async () => {
    const guard = createEgressGuard({ resolve: table({ "api.evil.test": [v4("169.254.169.254")] }) });
    for (const url of ["http://169.254.169.254/v1/models", "http://api.evil.test/v1/models"]) {
      await expect(guard.fetch(url)).rejects.toSatisfy((error: Error) =>
        /cloud metadata/.test(String((error.cause as Error | undefined)?.message)),
      );
    }
  });

  it.each([
    ["OpenAI", { openai: "http://169.254.169.254/v1" }],
    ["Anthropic", { anthropic: "http://[::ffff:a9fe:a9fe]/v1" }],
    ["Gemini", { gemini: "http://0xA9FEA9FE/v1beta" }],
  ] as const)("a %s check aimed at a metadata address ends EgressDenied", async (provider, baseUrls) => {
    const { checkModels, loadCatalogue } = await import("../../operator/providers/index.ts");
    const result = await checkModels(
      { provider, credentials: { apiKey: "canary-fixed-host-key-3b8e" } },
      { catalogue: loadCatalogue(), baseUrls, timeoutMs: 2000 },
    );
    expect(result.outcome).toBe("EgressDenied");
    expect(result.message).not.toContain("canary-fixed-host-key-3b8e");
  });
});
