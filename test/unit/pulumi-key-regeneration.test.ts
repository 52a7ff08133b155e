// Key regeneration through Azure Resource Manager, against a stand-in for Entra ID and ARM on 127.0.0.1:
// the token grant for each kind of credential, the regenerateKey call, and errors that name Azure's code
// but never a secret.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ArmAccountKeys, AzureApiError } from "../../operator/azure/account-keys.ts";
import type { AzureCredentials } from "../../operator/azure/provisioner.ts";

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

const seen: Seen[] = [];
let answer: (request: Seen) => { status: number; body: unknown } = () => ({ status: 500, body: {} });
let server: Server;
let baseUrl: string;
let dir: string;

const servicePrincipal: AzureCredentials = {
  kind: "ServicePrincipal",
  clientId: "client-1",
  clientSecret: "sp-secret-value-7",
  tenantId: "tenant-1",
  subscriptionId: "sub-1",
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "modelkeys-keys-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
      seen.push(request);
      const { status, body: out } = answer(request);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
  answer = (request) =>
    request.path.includes("/oauth2/v2.0/token")
      ? { status: 200, body: { access_token: "arm-token-1", token_type: "Bearer", expires_in: 3600 } }
      : { status: 200, body: { key1: "fresh-key-1", key2: "fresh-key-2" } };
});

const keys = () =>
  new ArmAccountKeys({ authorityHost: `${baseUrl}/login`, resourceManager: `${baseUrl}/arm` });
const account = { accountName: "acme-openai", resourceGroupName: "rg-llm" };

describe("ArmAccountKeys", () => {
  it("gets a token with the service principal's secret and regenerates the named key", async () => {
    const result = await keys().regenerate(account, "key2", servicePrincipal);
    expect(result).toEqual({ primaryKey: "fresh-key-1", secondaryKey: "fresh-key-2" });
    const [token, regenerate] = seen;
    expect(token?.path).toBe("/login/tenant-1/oauth2/v2.0/token");
    expect(Object.fromEntries(new URLSearchParams(token?.body))).toEqual({
      client_id: "client-1",
      client_secret: "sp-secret-value-7",
      scope: "https://management.azure.com/.default",
      grant_type: "client_credentials",
    });
    expect(regenerate).toMatchObject({
      method: "POST",
      path: "/arm/subscriptions/sub-1/resourceGroups/rg-llm/providers/Microsoft.CognitiveServices/accounts/acme-openai/regenerateKey?api-version=2024-10-01",
      headers: { authorization: "Bearer arm-token-1" },
    });
    expect(JSON.parse(regenerate?.body ?? "")).toEqual({ keyName: "Key2" });
  });

  it("uses the account's own subscription when it names one", async () => {
    await keys().regenerate({ ...account, subscriptionId: "sub-2" }, "key1", servicePrincipal);
    expect(seen[1]?.path).toContain("/subscriptions/sub-2/");
    expect(JSON.parse(seen[1]?.body ?? "")).toEqual({ keyName: "Key1" });
  });

  it("presents the workload identity's federated token as a client assertion", async () => {
    const tokenFile = join(dir, "azure-identity-token");
    writeFileSync(tokenFile, "federated.jwt.value\n");
    await keys().regenerate(account, "key1", {
      kind: "WorkloadIdentity",
      clientId: "client-wi",
      tenantId: "tenant-wi",
      subscriptionId: "sub-wi",
      tokenFilePath: tokenFile,
    });
    const form = Object.fromEntries(new URLSearchParams(seen[0]?.body));
    expect(form).toMatchObject({
      client_id: "client-wi",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: "federated.jwt.value",
      grant_type: "client_credentials",
    });
    expect(form).not.toHaveProperty("client_secret");
  });

  it("names Entra's error code when the credentials are refused, without the secret", async () => {
    answer = () => ({
      status: 401,
      body: { error: "invalid_client", error_description: "bad secret sp-secret-value-7" },
    });
    const attempt = keys().regenerate(account, "key2", servicePrincipal);
    await expect(attempt).rejects.toBeInstanceOf(AzureApiError);
    await expect(attempt).rejects.toThrow("token: Azure answered 401 invalid_client");
    await expect(attempt).rejects.not.toThrow(/sp-secret-value-7/);
  });

  it("names ARM's error code when the caller may not regenerate keys", async () => {
    answer = (request) =>
      request.path.includes("/oauth2/")
        ? { status: 200, body: { access_token: "arm-token-1" } }
        : {
            status: 403,
            body: { error: { code: "AuthorizationFailed", message: "no listKeys/regenerateKey" } },
          };
    await expect(keys().regenerate(account, "key2", servicePrincipal)).rejects.toMatchObject({
      status: 403,
      code: "AuthorizationFailed",
      message: "regenerateKey: Azure answered 403 AuthorizationFailed",
    });
  });

  it("refuses an answer without keys", async () => {
    answer = (request) =>
      request.path.includes("/oauth2/")
        ? { status: 200, body: { access_token: "arm-token-1" } }
        : { status: 200, body: { key1: "only-one" } };
    await expect(keys().regenerate(account, "key1", servicePrincipal)).rejects.toThrow(/holds no key1\/key2/);
  });

  it("reports an unreachable endpoint without its details", async () => {
    const unreachable = new ArmAccountKeys({ authorityHost: "http://127.0.0.1:1", timeoutMs: 2000 });
    await expect(unreachable.regenerate(account, "key1", servicePrincipal)).rejects.toThrow(
      /token: request failed/,
    );
  });
});
