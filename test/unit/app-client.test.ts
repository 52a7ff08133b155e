// The app client against the contract server: every endpoint, both token kinds (with renewal before expiry),
// errors mapped to AppError kinds, one request per call (the work queue retries), Retry-After, timeouts, TLS, and
// no secret in errors.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLoopbackCertificate } from "../../local/app/certificate.ts";
import { type AppServer, startAppServer } from "../../local/app/server.ts";
import type { SeededUser } from "../../local/app/state.ts";
import {
  type AppClient,
  type AppClientOptions,
  AppError,
  createAppClient,
} from "../../operator/app/index.ts";
import type { AppRequestSample } from "../../operator/app/transport.ts";

let server: AppServer;
let serverClock: number;
let clientClock: number;
let owner: SeededUser;
let samples: AppRequestSample[];
let logs: object[];
const clients: AppClient[] = [];

beforeEach(async () => {
  serverClock = clientClock = Date.parse("2026-11-20T10:00:00Z");
  server = await startAppServer({ now: () => serverClock, accessTokenTtlSeconds: 60 });
  owner = server.state.addUser({ role: "owner", organization: 3 });
  samples = [];
  logs = [];
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await server.stop();
});

/** Moves both clocks (server and client agree unless a test skews them). */
function advance(ms: number): void {
  serverClock += ms;
  clientClock += ms;
}

function client(options: Partial<AppClientOptions> = {}): AppClient {
  const created = createAppClient({
    url: server.url,
    token: owner.legacyToken,
    timeoutMs: 2000,
    now: () => clientClock,
    metrics: (sample) => samples.push(sample),
    logger: { debug: (entry) => logs.push(entry) },
    ...options,
  });
  clients.push(created);
  return created;
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the call to fail");
}

const requests = (path?: string) => server.state.requests.filter((request) => !path || request.path === path);

describe("endpoints", () => {
  it("speaks every endpoint of the reference with a legacy token", async () => {
    const app = client();
    expect(app.tokenKind).toBe("legacy");
    expect(await app.whoami()).toMatchObject({ id: owner.id, active_organization: 3 });
    expect(await app.providerChoices()).toContain("AzureAIFoundry");

    const fields = {
      provider: "AzureOpenAI",
      scope: "Model",
      api_key: "k-1",
      deployment_name: "gpt4o-prod",
    } as const;
    const created = await app.createConnection(fields);
    expect(created).toMatchObject({
      provider: "AzureOpenAI",
      scope: "Model",
      deployment_name: "gpt4o-prod",
      organization: 3,
    });
    expect(requests("/api/model-provider-connections/").at(-1)?.body).toEqual(fields);
    expect(await app.getConnection(created.id)).toEqual(created);

    const second = await app.createConnection({ provider: "OpenAI", scope: "Organization" });
    expect((await app.listConnections()).map((item) => item.id)).toEqual([created.id, second.id]);
    expect((await app.listConnections({ ordering: "-id" })).map((item) => item.id)).toEqual([
      second.id,
      created.id,
    ]);
    expect(requests("/api/model-provider-connections/").at(-1)?.query).toEqual({ ordering: "-id" });

    const patched = await app.updateConnection(created.id, { api_key: "k-2" });
    expect(requests().at(-1)).toMatchObject({
      method: "PATCH",
      path: `/api/model-provider-connections/${created.id}/`,
    });
    expect(requests().at(-1)?.body).toEqual({ api_key: "k-2" });
    expect(patched.deployment_name).toBe("gpt4o-prod");
    expect(server.state.getConnection(created.id)?.secrets.api_key).toBe("k-2");

    expect(await app.deleteConnection(created.id)).toBe("deleted");
    expect(await app.deleteConnection(created.id)).toBe("alreadyGone");
    const missing = await failure(app.getConnection(created.id));
    expect(missing).toMatchObject({ kind: "NotFound", status: 404, detail: "Not found." });
    for (const request of requests()) expect(request.headers.authorization).toBe("Token [redacted]");
  });

  it("reports one metrics sample per attempt with the route template", async () => {
    const app = client();
    const created = await app.createConnection({ provider: "Gemini" });
    await app.getConnection(created.id);
    await failure(app.getConnection(created.id + 100));
    expect(samples.map(({ method, route, status }) => `${method} ${route} ${status}`)).toEqual([
      "POST /api/model-provider-connections/ 201",
      "GET /api/model-provider-connections/{id}/ 200",
      "GET /api/model-provider-connections/{id}/ 404",
    ]);
    expect(samples.every((sample) => sample.seconds >= 0)).toBe(true);
  });

  it("refuses an id that is not a positive integer without calling the app", async () => {
    await expect(client().getConnection(0)).rejects.toThrow(RangeError);
    expect(requests()).toHaveLength(0);
  });
});

describe("personal access tokens", () => {
  it("exchanges once, reuses the access token, and shares one exchange between concurrent calls", async () => {
    const app = client({ token: owner.refreshToken });
    expect(app.tokenKind).toBe("personalAccessToken");
    await Promise.all([app.whoami(), app.listConnections(), app.providerChoices(), app.whoami()]);
    await app.listConnections();
    expect(requests("/api/token/refresh/")).toHaveLength(1);
    for (const request of requests().filter((r) => r.path !== "/api/token/refresh/")) {
      expect(request.headers.authorization).toBe("Bearer [redacted]");
      expect(request.status).toBe(200);
    }
  });

  it("renews the access token shortly before it expires, so the app never sees an expired one", async () => {
    const app = client({ token: owner.refreshToken, renewBeforeMs: 10_000 });
    await app.whoami();
    advance(49_000); // 11 s left of 60: still fresh
    await app.whoami();
    expect(requests("/api/token/refresh/")).toHaveLength(1);
    advance(2_000); // 9 s left: inside the renewal window
    await app.whoami();
    expect(requests("/api/token/refresh/")).toHaveLength(2);
    advance(3_600_000); // long idle: the cached token expired meanwhile
    await app.whoami();
    expect(requests("/api/token/refresh/")).toHaveLength(3);
    expect(requests().filter((request) => request.status === 401)).toHaveLength(0);
  });

  it("renews once and retries when the app answers 401 to a cached access token", async () => {
    const app = client({ token: owner.refreshToken });
    await app.whoami();
    serverClock += 120_000; // the app's clock runs ahead: our cached token is expired for it
    expect(await app.listConnections()).toEqual([]);
    expect(requests().map((request) => `${request.path} ${request.status}`)).toEqual([
      "/api/token/refresh/ 200",
      "/api/current-user/whoami 200",
      "/api/model-provider-connections/ 401",
      "/api/token/refresh/ 200",
      "/api/model-provider-connections/ 200",
    ]);
  });

  it("fails Unauthorized, terminally, when the personal access token is revoked or expired", async () => {
    server.state.revokeToken(owner.refreshToken);
    const revoked = await failure(client({ token: owner.refreshToken }).whoami());
    expect(revoked).toMatchObject({
      kind: "Unauthorized",
      status: 401,
      route: "/api/token/refresh/",
    });
    expect(revoked.detail).toBe("Token is invalid or expired");

    const expired = await failure(client({ token: server.state.issueRefreshToken(owner.id, -10) }).whoami());
    expect(expired).toMatchObject({ kind: "Unauthorized" });
    expect(expired.message).toMatch(/personal access token expired at 2026-11-20T09:59:50/);
    expect(requests("/api/current-user/whoami")).toHaveLength(0);
  });
});

describe("errors", () => {
  it("maps a bad legacy token to Unauthorized, never retried", async () => {
    const error = await failure(client({ token: "f".repeat(40) }).listConnections());
    expect(error).toMatchObject({
      kind: "Unauthorized",
      status: 401,
      detail: "Invalid token.",
    });
    expect(requests()).toHaveLength(1);
  });

  it("maps a token without the role to Forbidden with the app's message", async () => {
    const annotator = server.state.addUser({ role: "annotator", organization: 3 });
    const app = client({ token: annotator.legacyToken });
    expect((await app.whoami()).id).toBe(annotator.id);
    const error = await failure(app.createConnection({ provider: "OpenAI" }));
    expect(error).toMatchObject({ kind: "Forbidden", status: 403 });
    expect(error.message).toContain("You do not have permission to perform this action.");
    expect(requests("/api/model-provider-connections/")).toHaveLength(1);
  });

  it("surfaces the app's field messages of a 400, never retried", async () => {
    const error = await failure(
      client().createConnection({ provider: "Mistral" as never, deployment_name: "d".repeat(513) }),
    );
    expect(error).toMatchObject({ kind: "Invalid", status: 400 });
    expect(error.fieldErrors).toEqual({
      provider: ['"Mistral" is not a valid choice.'],
      deployment_name: ["Ensure this field has no more than 512 characters."],
    });
    expect(error.message).toContain("deployment_name: Ensure this field has no more than 512 characters.");
    expect(requests()).toHaveLength(1);
  });

  it("fails UnexpectedResponse when a 2xx answer does not match the documented shape", async () => {
    const bogus = await serveOnce((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ id: "seven" }]));
    });
    try {
      const error = await failure(client({ url: bogus.url }).listConnections());
      expect(error).toMatchObject({ kind: "UnexpectedResponse", status: 200 });
      expect(error.message).toContain("0.id");
    } finally {
      await bogus.close();
    }
  });

  it("fails Invalid, naming the target, when the app redirects (a wrong base URL)", async () => {
    const redirecting = await serveOnce((_request, response) => {
      response.writeHead(301, { location: "https://label-studio.example/api/current-user/whoami" }).end();
    });
    try {
      const error = await failure(client({ url: redirecting.url }).whoami());
      expect(error).toMatchObject({ kind: "Invalid", status: 301 });
      expect(error.detail).toBe("redirected to https://label-studio.example/api/current-user/whoami");
    } finally {
      await redirecting.close();
    }
  });

  it("reads provider-choices as a bare array too", async () => {
    const bare = await serveOnce((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end('["OpenAI","Custom"]');
    });
    try {
      expect(await client({ url: bare.url }).providerChoices()).toEqual(["OpenAI", "Custom"]);
    } finally {
      await bare.close();
    }
  });
});

describe("one request per call: the work queue, not the client, retries", () => {
  it("fails a 5xx at once as a transient Unavailable", async () => {
    server.state.injectFault({ kind: "status", status: 502, times: 10 });
    const error = await failure(client().whoami());
    expect(error).toMatchObject({ kind: "Unavailable", status: 502 });
    expect(requests()).toHaveLength(1);
    expect(samples.map((sample) => sample.status)).toEqual(["502"]);
  });

  it("passes a 429's Retry-After on as retryAfterMs, for a create too (nothing was created)", async () => {
    server.state.injectFault({ kind: "rateLimit", retryAfterSeconds: 120, times: 1 });
    const error = await failure(client().createConnection({ provider: "Anthropic" }));
    expect(error).toMatchObject({ kind: "RateLimited", status: 429, retryAfterMs: 120_000 });
    expect(server.state.listConnections()).toHaveLength(0);
    expect(await client().createConnection({ provider: "Anthropic" })).toMatchObject({
      provider: "Anthropic",
    });
  });

  it("fails a dropped connection as Network", async () => {
    server.state.injectFault({ kind: "drop", match: { method: "GET" } });
    expect(await failure(client().whoami())).toMatchObject({ kind: "Network" });
    expect(samples.map((sample) => sample.status)).toEqual(["network"]);
  });

  it("does not repeat a create the app may have acted on: no duplicate record", async () => {
    server.state.injectFault({ kind: "drop", afterHandling: true, match: { method: "POST" } });
    const dropped = await failure(client().createConnection({ provider: "OpenAI", api_key: "k" }));
    expect(dropped).toMatchObject({ kind: "Network" });
    server.state.injectFault({ kind: "status", status: 500, match: { method: "POST" } });
    expect(await failure(client().createConnection({ provider: "OpenAI" }))).toMatchObject({
      kind: "Unavailable",
    });
    expect(requests("/api/model-provider-connections/")).toHaveLength(2);
    expect(server.state.listConnections()).toHaveLength(1);
  });

  it("fails a refused connection as Network, naming the cause", async () => {
    const url = server.url;
    await server.stop();
    const error = await failure(client({ url }).createConnection({ provider: "OpenAI" }));
    expect(error).toMatchObject({ kind: "Network" });
    expect(error.detail).toContain("ECONNREFUSED");
    expect(samples).toHaveLength(1);
    server = await startAppServer();
  });

  it("times out a slow answer", async () => {
    server.state.injectFault({ kind: "latency", ms: 2_000 });
    const error = await failure(client({ timeoutMs: 100 }).whoami());
    expect(error).toMatchObject({ kind: "Timeout" });
    expect(error.detail).toContain("100 ms");
    expect(samples.map((sample) => sample.status)).toEqual(["timeout"]);
  });

  it("gives writes their own timeout: a slow create succeeds where a read of that length would not", async () => {
    const writes = { method: "POST", path: "/api/model-provider-connections/" };
    server.state.injectFault({ kind: "latency", ms: 300, match: writes });
    const app = client({ timeoutMs: 100, writeTimeoutMs: 2_000 });
    expect(await app.createConnection({ provider: "OpenAI" })).toMatchObject({ provider: "OpenAI" });
    server.state.injectFault({ kind: "latency", ms: 300, match: { method: "GET" } });
    expect(await failure(app.listConnections())).toMatchObject({ kind: "Timeout" });
  });

  it("does not repeat a create that timed out, and says to wait one write timeout before looking for it", async () => {
    server.state.injectFault({
      kind: "latency",
      ms: 500,
      match: { method: "POST", path: "/api/model-provider-connections/" },
    });
    const error = await failure(client({ writeTimeoutMs: 100 }).createConnection({ provider: "OpenAI" }));
    expect(error).toMatchObject({ kind: "Timeout", retryAfterMs: 100 });
    expect(error.detail).toBe("no answer within 100 ms");
    // The app still made the record after the client gave up: the ambiguity adoption heals.
    await expect.poll(() => server.state.listConnections().length).toBe(1);
  });
});

describe("TLS", () => {
  it("trusts a CA bundle, refuses an unknown CA without retrying, and can skip verification", async () => {
    const certificate = await createLoopbackCertificate();
    const tls = await startAppServer({ tls: { cert: certificate.certPem, key: certificate.keyPem } });
    try {
      const user = tls.state.addUser({ role: "owner", organization: 9 });
      const options = { url: tls.url, token: user.legacyToken };
      expect((await client({ ...options, caPem: certificate.caPem }).whoami()).active_organization).toBe(9);
      const untrusted = await failure(client(options).whoami());
      expect(untrusted).toMatchObject({ kind: "Network" });
      expect(untrusted.detail).toMatch(/CERT|SIGNATURE|VERIFY/);
      expect(samples.filter((sample) => sample.status === "network")).toHaveLength(1);
      expect((await client({ ...options, insecureSkipVerify: true }).whoami()).id).toBe(user.id);
    } finally {
      await tls.stop();
    }
  });
});

describe("secrets", () => {
  it("never puts a token or a secret field value into an error or a log entry (canary)", async () => {
    const canary = "canary-5f0c2e9a7d";
    const errors: AppError[] = [];
    const legacy = client();
    // The app echoes a rejected choice: here the echoed value is also the request's api_key.
    errors.push(await failure(legacy.createConnection({ provider: canary as never, api_key: canary })));
    errors.push(
      await failure(
        legacy.createConnection({
          auth_token: canary,
          google_application_credentials: canary,
          scope: "x" as never,
        }),
      ),
    );
    errors.push(await failure(client({ token: `${canary}-legacy` }).whoami()));
    server.state.revokeToken(owner.refreshToken);
    errors.push(await failure(client({ token: owner.refreshToken }).whoami()));
    server.state.injectFault({ kind: "drop", match: { method: "PATCH" }, times: 10 });
    const created = await legacy.createConnection({ provider: "OpenAI" });
    errors.push(await failure(legacy.updateConnection(created.id, { api_key: canary })));
    server.state.injectFault({ kind: "status", status: 503, times: 10 });
    errors.push(await failure(legacy.updateConnection(created.id, { auth_token: canary })));

    expect(errors).toHaveLength(6);
    const secrets = [canary, owner.legacyToken, owner.refreshToken];
    for (const error of errors) {
      const seen = [
        error.message,
        String(error),
        error.stack ?? "",
        JSON.stringify(error),
        JSON.stringify(error.fieldErrors) ?? "",
      ];
      for (const text of seen) for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(errors[0]?.fieldErrors?.provider).toEqual(['"[REDACTED]" is not a valid choice.']);
    for (const secret of secrets) expect(JSON.stringify(logs)).not.toContain(secret);
    expect(JSON.stringify(samples)).not.toContain(canary);
  });
});

/** A one-purpose HTTP server on 127.0.0.1 for answers the contract server would never give. */
async function serveOnce(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; close: () => Promise<void> }> {
  const plain: Server = createServer(handler);
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  const { port } = plain.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        plain.close(() => resolve());
        plain.closeAllConnections();
      }),
  };
}
