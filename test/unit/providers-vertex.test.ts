// Vertex AI model checks: a throwaway service-account key is exchanged at the stand-in's token endpoint
// (signature verified), then each catalogue model is probed in the project and location.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createServiceAccountKey,
  startVertexStandIn,
  type VertexStandIn,
} from "../../local/providers/vertex.ts";
import {
  checkModels,
  createEgressGuard,
  loadCatalogue,
  type ModelCheckOptions,
  type ModelCheckRequest,
} from "../../operator/providers/index.ts";

let server: VertexStandIn;
let options: ModelCheckOptions;
let key: string;
const catalogue = loadCatalogue();
const supported = catalogue.providers.VertexAI.models;

beforeAll(async () => {
  server = await startVertexStandIn();
  options = { catalogue, baseUrls: { vertex: () => `${server.url}/v1` }, timeoutMs: 3000 };
  key = server.createServiceAccount({ projectId: "acme-ml" }).json;
});
afterAll(() => server.stop());
beforeEach(() => {
  server.set({ fault: undefined, deniedModels: [], delayMs: 0 });
  server.clearRequests();
});

const check = (extra: Partial<ModelCheckRequest> = {}, credentialsJson = key) =>
  checkModels({ provider: "VertexAI", credentials: { credentialsJson }, ...extra }, options);
const probedPaths = () => server.requests.filter((r) => r.method === "GET").map((r) => r.path);

describe("Vertex AI model check", () => {
  it("defaults: the key's project_id and us-central1; one token exchange, one probe per catalogue model", async () => {
    const result = await check();
    expect(result.outcome).toBe("Valid");
    expect(result.models.every((m) => m.available)).toBe(true);
    expect(server.count("/token")).toBe(1);
    expect(probedPaths().sort()).toEqual(
      supported.map((m) => `/v1/projects/acme-ml/locations/us-central1/publishers/google/models/${m}`).sort(),
    );
    const probe = server.requests.find((r) => r.method === "GET");
    expect(probe?.headers.authorization).toMatch(/^Bearer ya29\.standin-/);
    const grant = server.requests.find((r) => r.path === "/token")?.body as Record<string, string>;
    expect(grant.grant_type).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    expect(result.message).toContain("project acme-ml, location us-central1");
  });

  it("the spec's project and location win over the defaults; models missing there are NotInLocation", async () => {
    const other = server.createServiceAccount({
      projectId: "acme-ml",
      projects: ["acme-ml", "acme-eu"],
    }).json;
    const result = await check(
      { projectId: "acme-eu", location: "europe-west4", expectedModels: ["gemini-1.5-flash"] },
      other,
    );
    expect(result.outcome).toBe("Valid");
    expect(
      result.models
        .filter((m) => m.available)
        .map((m) => m.name)
        .sort(),
    ).toEqual(["gemini-1.5-pro", "gemini-2.0-flash"]);
    expect(result.models.find((m) => m.name === "gemini-1.5-flash")).toEqual({
      name: "gemini-1.5-flash",
      available: false,
      reason: "NotInLocation",
    });
    expect(result.expectedMissing).toEqual(["gemini-1.5-flash"]);
    expect(probedPaths().every((p) => p.startsWith("/v1/projects/acme-eu/locations/europe-west4/"))).toBe(
      true,
    );
  });

  it("only some models: a 403 on one model is PermissionDenied for that model", async () => {
    server.set({ deniedModels: ["gemini-2.0-flash-lite"] });
    const result = await check();
    expect(result.outcome).toBe("Valid");
    expect(result.models.find((m) => m.name === "gemini-2.0-flash-lite")?.reason).toBe("PermissionDenied");
    expect(result.models.filter((m) => m.available)).toHaveLength(supported.length - 1);
  });

  it("a service account without access to the project (403 everywhere) → InvalidCredentials", async () => {
    const result = await check({ projectId: "someone-elses" });
    expect(result.outcome).toBe("InvalidCredentials");
    expect(result.message).toMatch(/someone-elses/);
  });

  it("a key the token endpoint does not trust (signature) → InvalidCredentials", async () => {
    const forged = createServiceAccountKey({
      projectId: "acme-ml",
      tokenUri: server.tokenUri,
      email: JSON.parse(key).client_email,
    });
    const result = await check({}, forged.json);
    expect(result.outcome).toBe("InvalidCredentials");
    expect(result.message).toMatch(/invalid_grant/);
    expect(probedPaths()).toEqual([]);
  });

  it.each([
    { name: "not JSON", json: "{not json", match: /not JSON/ },
    {
      name: "not a service account",
      json: JSON.stringify({ type: "authorized_user", client_id: "x" }),
      match: /type/,
    },
    { name: "no project anywhere", json: "no-project", match: /projectId/ },
  ])("credentials $name → InvalidCredentials", async ({ json, match }) => {
    const credentials =
      json === "no-project" ? JSON.stringify({ ...JSON.parse(key), project_id: undefined }) : json;
    const result = await check({}, credentials);
    expect(result.outcome).toBe("InvalidCredentials");
    expect(result.message).toMatch(match);
    expect(server.count()).toBe(0);
  });

  it.each([
    {
      name: "token endpoint rate limited",
      fault: { status: 429, retryAfterSeconds: 9, match: "/token" },
      outcome: "RateLimited",
    },
    { name: "token endpoint down", fault: { status: 503, match: "/token" }, outcome: "Unavailable" },
    {
      name: "model endpoint rate limited",
      fault: { status: 429, retryAfterSeconds: 9, match: "/publishers/" },
      outcome: "RateLimited",
    },
    { name: "model endpoint down", fault: { status: 500, match: "/publishers/" }, outcome: "Unavailable" },
  ])("$name → $outcome, and the token request is not retried", async ({ fault, outcome }) => {
    server.set({ fault });
    const result = await check();
    expect(result.outcome).toBe(outcome);
    expect(server.count("/token")).toBe(1);
    if (outcome === "RateLimited") expect(result.retryAfterMs).toBe(9000);
  });

  it("a token_uri pointing at the metadata address is refused by the egress guard", async () => {
    const evil = JSON.stringify({
      ...JSON.parse(key),
      token_uri: "http://169.254.169.254/computeMetadata/v1/token",
    });
    const result = await check({}, evil);
    expect(result.outcome).toBe("EgressDenied");
  });

  it("the guard's allow list (meant for Custom endpoints) does not apply to a key's token_uri", async () => {
    const guarded = { ...options, egress: createEgressGuard({ allow: ["ollama.internal"] }) };
    const result = await checkModels(
      { provider: "VertexAI", credentials: { credentialsJson: key } },
      guarded,
    );
    expect(result.outcome).toBe("Valid");
  });

  it("a provider echoing the private key or the access token does not leak it into the message", async () => {
    const privateKey = JSON.parse(key).private_key as string;
    const body = {
      error: {
        code: 500,
        message: `internal: key ${privateKey} token ya29.standin-abcdefghijkl`,
        status: "INTERNAL",
      },
    };
    server.set({ fault: { status: 500, match: "/publishers/", body } });
    const result = await check();
    expect(result.outcome).toBe("Unavailable");
    const text = JSON.stringify(result);
    expect(text).not.toContain("PRIVATE KEY");
    for (const line of privateKey.split("\n").filter((l) => l.length > 20))
      expect(text).not.toContain(line.slice(0, 12));
    expect(text).not.toMatch(/ya29\.standin-/);
  });

  it("a slow token endpoint hits the time limit → Unavailable", async () => {
    server.set({ delayMs: 1000 });
    const result = await checkModels(
      { provider: "VertexAI", credentials: { credentialsJson: key } },
      { ...options, timeoutMs: 150 },
    );
    expect(result.outcome).toBe("Unavailable");
    expect(result.message).toMatch(/within 150ms/);
  });

  it("a private key that cannot sign → InvalidCredentials, without a request", async () => {
    const broken = JSON.stringify({
      ...JSON.parse(key),
      private_key: "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
    });
    const result = await check({}, broken);
    expect(result.outcome).toBe("InvalidCredentials");
    expect(result.message).toMatch(/cannot sign/);
    expect(server.count()).toBe(0);
  });

  it("the caller's abort during the token exchange rejects", async () => {
    server.set({ delayMs: 1000 });
    const controller = new AbortController();
    const pending = checkModels(
      { provider: "VertexAI", credentials: { credentialsJson: key } },
      { ...options, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await expect(pending).rejects.toThrow("stop");
  });
});
