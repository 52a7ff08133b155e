// The Label Studio contract server follows shared/reference/labelstudio-api.md: exact paths, both token kinds,
// DRF-style answers, write-only secrets, per-organization records, request recording and injected faults.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../../local/app/server.ts";

let server: AppServer;
let clock: number;
let owner: { id: number; legacyToken: string; refreshToken: string };

beforeEach(async () => {
  clock = Date.parse("2026-11-20T10:00:00Z");
  server = await startAppServer({ now: () => clock, accessTokenTtlSeconds: 60 });
  owner = server.state.addUser({ role: "owner", organization: 3 });
});
afterEach(async () => {
  await server.stop();
});

async function call(
  method: string,
  path: string,
  options: { token?: string; auth?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {};
  const auth =
    options.auth ?? (options.token === undefined ? `Token ${owner.legacyToken}` : `Token ${options.token}`);
  if (auth) headers.authorization = auth;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const isJson = response.headers.get("content-type") === "application/json";
  return {
    status: response.status,
    headers: response.headers,
    json: isJson ? JSON.parse(text) : undefined,
    text,
  };
}

const openAI = { provider: "OpenAI", scope: "Organization", api_key: "sk-canary-123456" };

describe("connections endpoints", () => {
  it("creates, reads, lists, patches, puts and deletes a connection", async () => {
    const created = await call("POST", "/api/model-provider-connections/", { body: openAI });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ provider: "OpenAI", scope: "Organization", organization: 3 });
    expect(created.json.created_by).toMatchObject({ id: owner.id });
    expect(created.json).toMatchObject({ model_params: {}, budget_limit: null, budget_total_spent: 0 });
    expect(created.json.created_at).toBe("2026-11-20T10:00:00.000Z");
    const id = created.json.id as number;

    expect((await call("GET", `/api/model-provider-connections/${id}/`)).json).toEqual(created.json);
    const list = await call("GET", "/api/model-provider-connections/");
    expect(list.status).toBe(200);
    expect(list.json).toEqual([created.json]);

    clock += 1000;
    const patched = await call("PATCH", `/api/model-provider-connections/${id}/`, {
      body: { cached_available_models: "gpt-4o,gpt-4.1" },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ provider: "OpenAI", cached_available_models: "gpt-4o,gpt-4.1" });
    expect(patched.json.updated_at).toBe("2026-11-20T10:00:01.000Z");

    const put = await call("PUT", `/api/model-provider-connections/${id}/`, {
      body: { ...openAI, cached_available_models: null, is_internal: true },
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ cached_available_models: null, is_internal: true });

    const deleted = await call("DELETE", `/api/model-provider-connections/${id}/`);
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeUndefined();
    expect((await call("GET", `/api/model-provider-connections/${id}/`)).status).toBe(404);
    expect((await call("DELETE", `/api/model-provider-connections/${id}/`)).status).toBe(404);
  });

  it("fills the model defaults on create and keeps omitted fields on PATCH and PUT", async () => {
    const created = await call("POST", "/api/model-provider-connections/", { body: {} });
    expect(created.json).toMatchObject({ provider: "OpenAI", scope: "Organization", is_internal: false });
    const id = created.json.id;
    await call("PATCH", `/api/model-provider-connections/${id}/`, { body: { deployment_name: "d1" } });
    const put = await call("PUT", `/api/model-provider-connections/${id}/`, {
      body: { endpoint: "https://x" },
    });
    expect(put.json).toMatchObject({ deployment_name: "d1", endpoint: "https://x" });
  });

  it("never returns secret fields, but stores them for assertions", async () => {
    const created = await call("POST", "/api/model-provider-connections/", {
      body: { ...openAI, auth_token: "tok-canary", google_application_credentials: '{"type":"sa"}' },
    });
    const answers = [
      created.json,
      (await call("GET", `/api/model-provider-connections/${created.json.id}/`)).json,
      (await call("GET", "/api/model-provider-connections/")).json,
    ];
    for (const answer of answers) {
      const text = JSON.stringify(answer);
      for (const field of ["api_key", "auth_token", "google_application_credentials"])
        expect(text).not.toContain(field);
      expect(text).not.toContain("canary");
    }
    const stored = server.state.getConnection(created.json.id);
    expect(stored?.secrets).toEqual({
      api_key: "sk-canary-123456",
      auth_token: "tok-canary",
      google_application_credentials: '{"type":"sa"}',
    });
    expect(stored?.secretSha256.api_key).toMatch(/^[0-9a-f]{64}$/);

    await call("PATCH", `/api/model-provider-connections/${created.json.id}/`, {
      body: { api_key: "sk-rotated" },
    });
    expect(server.state.getConnection(created.json.id)?.secrets.api_key).toBe("sk-rotated");
    expect(server.state.getConnection(created.json.id)?.secrets.auth_token).toBe("tok-canary");
  });

  it("keeps organizations apart: another organization's record is 404 and not listed", async () => {
    const other = server.state.addUser({ role: "administrator", organization: 4 });
    const mine = await call("POST", "/api/model-provider-connections/", { body: openAI });
    expect(
      (await call("GET", "/api/model-provider-connections/", { token: other.legacyToken })).json,
    ).toEqual([]);
    for (const method of ["GET", "PATCH", "PUT", "DELETE"]) {
      const answer = await call(method, `/api/model-provider-connections/${mine.json.id}/`, {
        token: other.legacyToken,
        body: method === "PATCH" || method === "PUT" ? { is_internal: true } : undefined,
      });
      expect(answer.status, method).toBe(404);
      expect(answer.json).toEqual({ detail: "Not found." });
    }
    expect(server.state.getConnection(mine.json.id)?.is_internal).toBe(false);
  });

  it("does not enforce one connection per organization (the product rule is the operator's to keep)", async () => {
    expect((await call("POST", "/api/model-provider-connections/", { body: openAI })).status).toBe(201);
    expect((await call("POST", "/api/model-provider-connections/", { body: openAI })).status).toBe(201);
  });

  it("orders the plain array by ?ordering=", async () => {
    for (const provider of ["Gemini", "Anthropic", "OpenAI"]) {
      await call("POST", "/api/model-provider-connections/", { body: { provider } });
      clock += 1000;
    }
    const providers = async (ordering: string) =>
      (
        (await call("GET", `/api/model-provider-connections/?ordering=${ordering}`)).json as {
          provider: string;
        }[]
      ).map((item) => item.provider);
    expect(await providers("id")).toEqual(["Gemini", "Anthropic", "OpenAI"]);
    expect(await providers("-id")).toEqual(["OpenAI", "Anthropic", "Gemini"]);
    expect(await providers("-created_at")).toEqual(["OpenAI", "Anthropic", "Gemini"]);
    expect(await providers("provider")).toEqual(["Anthropic", "Gemini", "OpenAI"]);
    expect(await providers("api_key")).toEqual(["Gemini", "Anthropic", "OpenAI"]);
    expect(await providers("nonsense")).toEqual(["Gemini", "Anthropic", "OpenAI"]);
  });

  it("lists the provider names at provider-choices (no trailing slash)", async () => {
    const answer = await call("GET", "/api/model-provider-connections/provider-choices");
    expect(answer.status).toBe(200);
    expect([...answer.json.provider_choices].sort()).toEqual(
      ["Anthropic", "AzureAIFoundry", "AzureOpenAI", "Custom", "Gemini", "OpenAI", "VertexAI"].sort(),
    );
  });
});

describe("validation", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string[]>]> = [
    ["unknown provider", { provider: "Mistral" }, { provider: ['"Mistral" is not a valid choice.'] }],
    ["unknown scope", { scope: "Team" }, { scope: ['"Team" is not a valid choice.'] }],
    ["null provider", { provider: null }, { provider: ["This field may not be null."] }],
    [
      "deployment_name over 512",
      { deployment_name: "d".repeat(513) },
      { deployment_name: ["Ensure this field has no more than 512 characters."] },
    ],
    [
      "endpoint over 512",
      { endpoint: "e".repeat(513) },
      { endpoint: ["Ensure this field has no more than 512 characters."] },
    ],
    [
      "google_project_id over 255",
      { google_project_id: "p".repeat(256) },
      { google_project_id: ["Ensure this field has no more than 255 characters."] },
    ],
    [
      "google_location over 255",
      { google_location: "l".repeat(256) },
      { google_location: ["Ensure this field has no more than 255 characters."] },
    ],
    [
      "cached_available_models over 4096",
      { cached_available_models: "m".repeat(4097) },
      { cached_available_models: ["Ensure this field has no more than 4096 characters."] },
    ],
    ["api_key not a string", { api_key: 12 }, { api_key: ["Not a valid string."] }],
    ["is_internal not a boolean", { is_internal: "yes" }, { is_internal: ["Must be a valid boolean."] }],
    [
      "budget_alert_threshold not a number",
      { budget_alert_threshold: "x" },
      { budget_alert_threshold: ["A valid number is required."] },
    ],
    [
      "two bad fields",
      { provider: "X", endpoint: 3 },
      { provider: ['"X" is not a valid choice.'], endpoint: ["Not a valid string."] },
    ],
  ];
  it.each(cases)("answers 400 with field messages: %s", async (_name, body, errors) => {
    const created = await call("POST", "/api/model-provider-connections/", { body });
    expect(created.status).toBe(400);
    expect(created.json).toEqual(errors);
    const existing = server.state.createConnection(3, {});
    const patched = await call("PATCH", `/api/model-provider-connections/${existing.id}/`, { body });
    expect(patched.status).toBe(400);
    expect(patched.json).toEqual(errors);
    expect(server.state.listConnections(3)).toHaveLength(1);
  });

  it("accepts the limits exactly, nulls, and ignores unknown fields", async () => {
    const created = await call("POST", "/api/model-provider-connections/", {
      body: {
        provider: "AzureOpenAI",
        scope: "Model",
        deployment_name: "d".repeat(512),
        google_project_id: "p".repeat(255),
        cached_available_models: "m".repeat(4096),
        endpoint: null,
        budget_alert_threshold: 0.8,
        colour: "blue",
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).not.toHaveProperty("colour");
    expect(created.json.budget_alert_threshold).toBe(0.8);
  });

  it("answers 400 to a body that is not an object or not JSON, and 415 to another media type", async () => {
    expect((await call("POST", "/api/model-provider-connections/", { body: [1] })).json).toEqual({
      non_field_errors: ["Invalid data. Expected a dictionary, but got list."],
    });
    const notJson = await fetch(`${server.url}/api/model-provider-connections/`, {
      method: "POST",
      headers: { authorization: `Token ${owner.legacyToken}`, "content-type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { detail: string }).detail).toMatch(/^JSON parse error/);
    const text = await fetch(`${server.url}/api/model-provider-connections/`, {
      method: "POST",
      headers: { authorization: `Token ${owner.legacyToken}`, "content-type": "text/plain" },
      body: "provider=OpenAI",
    });
    expect(text.status).toBe(415);
  });
});

describe("paths", () => {
  it.each([
    ["GET", "/api/model-provider-connections"],
    ["POST", "/api/model-provider-connections"],
    ["GET", "/api/model-provider-connections/1"],
    ["PATCH", "/api/model-provider-connections/1"],
    ["DELETE", "/api/model-provider-connections/1"],
    ["GET", "/api/model-provider-connections/provider-choices/"],
    ["GET", "/api/current-user/whoami/"],
    ["POST", "/api/token/refresh"],
    ["GET", "/api/model-provider-connections/abc/"],
    ["GET", "/api/projects/"],
  ])("answers 404 to %s %s (wrong trailing slash or unknown path)", async (method, path) => {
    server.state.createConnection(3, {});
    const answer = await call(method, path, {
      body: method === "GET" || method === "DELETE" ? undefined : {},
    });
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({ detail: "Not found." });
  });

  it("answers 405 to a method the endpoint lacks", async () => {
    const answer = await call("DELETE", "/api/model-provider-connections/");
    expect(answer.status).toBe(405);
    expect(answer.json).toEqual({ detail: 'Method "DELETE" not allowed.' });
    expect(
      (await call("POST", "/api/model-provider-connections/provider-choices", { body: {} })).status,
    ).toBe(405);
  });
});

describe("authentication and roles", () => {
  it("whoami answers the token's user and active organization", async () => {
    const answer = await call("GET", "/api/current-user/whoami");
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: owner.id, active_organization: 3 });
    expect(typeof answer.json.email).toBe("string");
    expect(typeof answer.json.username).toBe("string");
  });

  it("answers 401 to a missing, unknown or malformed token on every endpoint", async () => {
    for (const path of [
      "/api/current-user/whoami",
      "/api/model-provider-connections/",
      "/api/model-provider-connections/1/",
      "/api/model-provider-connections/provider-choices",
    ]) {
      const missing = await call("GET", path, { auth: "" });
      expect(missing.status, path).toBe(401);
      expect(missing.json).toEqual({ detail: "Authentication credentials were not provided." });
      const unknown = await call("GET", path, { token: "0123456789abcdef" });
      expect(unknown.status).toBe(401);
      expect(unknown.json).toEqual({ detail: "Invalid token." });
      expect((await call("GET", path, { auth: "Bearer not.a.jwt" })).status).toBe(401);
      expect((await call("GET", path, { auth: `Bearer ${owner.refreshToken}` })).status).toBe(401);
    }
  });

  it.each(["manager", "reviewer", "annotator"] as const)(
    "answers 403 to a %s on connection endpoints",
    async (role) => {
      const user = server.state.addUser({ role, organization: 3 });
      expect((await call("GET", "/api/current-user/whoami", { token: user.legacyToken })).status).toBe(200);
      for (const [method, path] of [
        ["GET", "/api/model-provider-connections/"],
        ["POST", "/api/model-provider-connections/"],
        ["GET", "/api/model-provider-connections/1/"],
        ["DELETE", "/api/model-provider-connections/1/"],
        ["GET", "/api/model-provider-connections/provider-choices"],
      ] as const) {
        const answer = await call(method, path, {
          token: user.legacyToken,
          body: method === "POST" ? openAI : undefined,
        });
        expect(answer.status, `${method} ${path}`).toBe(403);
        expect(answer.json).toEqual({ detail: "You do not have permission to perform this action." });
      }
      expect(server.state.listConnections()).toHaveLength(0);
    },
  );

  it("exchanges a personal access token for an access token that works until it expires", async () => {
    const refreshed = await call("POST", "/api/token/refresh/", {
      auth: "",
      body: { refresh: owner.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    const access = refreshed.json.access as string;
    const payload = JSON.parse(Buffer.from(access.split(".")[1] ?? "", "base64url").toString());
    expect(payload).toMatchObject({ token_type: "access", user_id: owner.id, exp: clock / 1000 + 60 });

    expect((await call("GET", "/api/current-user/whoami", { auth: `Bearer ${access}` })).status).toBe(200);
    clock += 59_000;
    expect((await call("GET", "/api/model-provider-connections/", { auth: `Bearer ${access}` })).status).toBe(
      200,
    );
    clock += 1_000;
    const expired = await call("GET", "/api/model-provider-connections/", { auth: `Bearer ${access}` });
    expect(expired.status).toBe(401);
    expect(expired.json.code).toBe("token_not_valid");
  });

  it("refuses a forged, expired, revoked or access-typed token at refresh", async () => {
    const refresh = (token: unknown) =>
      call("POST", "/api/token/refresh/", { auth: "", body: { refresh: token } });
    expect((await refresh(undefined)).json).toEqual({ refresh: ["This field is required."] });
    const [header, payload] = owner.refreshToken.split(".");
    expect((await refresh(`${header}.${payload}.forged`)).status).toBe(401);
    const access = (await refresh(owner.refreshToken)).json.access;
    expect((await refresh(access)).status).toBe(401);
    const expired = server.state.issueRefreshToken(owner.id, -1);
    expect((await refresh(expired)).json).toEqual({
      detail: "Token is invalid or expired",
      code: "token_not_valid",
    });
    server.state.revokeToken(owner.refreshToken);
    expect((await refresh(owner.refreshToken)).status).toBe(401);
  });

  it("stops accepting a removed user's tokens and follows role changes", async () => {
    const admin = server.state.addUser({ role: "administrator", organization: 3 });
    expect((await call("GET", "/api/model-provider-connections/", { token: admin.legacyToken })).status).toBe(
      200,
    );
    server.state.setRole(admin.id, "annotator");
    expect((await call("GET", "/api/model-provider-connections/", { token: admin.legacyToken })).status).toBe(
      403,
    );
    server.state.removeUser(admin.id);
    expect((await call("GET", "/api/current-user/whoami", { token: admin.legacyToken })).status).toBe(401);
  });
});

describe("recording and faults", () => {
  it("records requests with authorization values and refresh tokens redacted", async () => {
    server.state.clearRequests();
    await call("POST", "/api/token/refresh/", { auth: "", body: { refresh: owner.refreshToken } });
    await call("POST", "/api/model-provider-connections/?x=1", { body: openAI });
    const [refresh, create] = server.state.requests;
    expect(refresh).toMatchObject({
      method: "POST",
      path: "/api/token/refresh/",
      status: 200,
      body: { refresh: "[redacted]" },
    });
    expect(create).toMatchObject({
      method: "POST",
      path: "/api/model-provider-connections/",
      query: { x: "1" },
      status: 201,
    });
    expect(create?.body).toEqual(openAI);
    expect(create?.headers.authorization).toBe("Token [redacted]");
    expect(create?.userId).toBe(owner.id);
    expect(JSON.stringify(server.state.requests)).not.toContain(owner.legacyToken);
    expect(JSON.stringify(server.state.requests)).not.toContain(owner.refreshToken);
  });

  it("injects 5xx, 429 with Retry-After and latency into the matching requests only, `times` times", async () => {
    server.state.injectFault({
      match: { method: "GET", path: "/api/model-provider-connections/" },
      kind: "status",
      status: 503,
      times: 2,
    });
    expect((await call("GET", "/api/current-user/whoami")).status).toBe(200);
    expect((await call("GET", "/api/model-provider-connections/")).status).toBe(503);
    expect((await call("GET", "/api/model-provider-connections/")).status).toBe(503);
    expect((await call("GET", "/api/model-provider-connections/")).status).toBe(200);

    server.state.injectFault({ kind: "rateLimit", retryAfterSeconds: 7 });
    const limited = await call("GET", "/api/current-user/whoami");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(limited.json.detail).toMatch(/throttled/);

    server.state.injectFault({ kind: "latency", ms: 150 });
    const started = performance.now();
    expect((await call("GET", "/api/current-user/whoami")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(server.state.requests.filter((request) => request.fault).map((request) => request.fault)).toEqual([
      "status",
      "status",
      "rateLimit",
      "latency",
    ]);
  });

  it("drops a connection before or after handling the request", async () => {
    server.state.injectFault({ kind: "drop" });
    await expect(call("POST", "/api/model-provider-connections/", { body: openAI })).rejects.toThrow();
    expect(server.state.listConnections()).toHaveLength(0);
    server.state.injectFault({ kind: "drop", afterHandling: true });
    await expect(call("POST", "/api/model-provider-connections/", { body: openAI })).rejects.toThrow();
    expect(server.state.listConnections()).toHaveLength(1);
    expect((await call("GET", "/api/model-provider-connections/")).json).toHaveLength(1);
  });

  it("stops promptly while a delayed request is pending", async () => {
    server.state.injectFault({ kind: "latency", ms: 60_000 });
    const pending = call("GET", "/api/current-user/whoami").catch((error: Error) => error);
    await expect.poll(() => server.state.requests.length).toBe(1);
    await server.stop();
    expect(await pending).toBeInstanceOf(Error);
    server = await startAppServer();
  });
});

describe("TLS", () => {
  it("serves HTTPS with a given certificate", async () => {
    const { createLoopbackCertificate } = await import("../../local/app/certificate.ts");
    const certificate = await createLoopbackCertificate();
    const tls = await startAppServer({ tls: { cert: certificate.certPem, key: certificate.keyPem } });
    try {
      expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await expect(fetch(`${tls.url}/api/current-user/whoami`)).rejects.toThrow();
    } finally {
      await tls.stop();
    }
  });
});
