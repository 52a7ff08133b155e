// The stand-in where app versions differ: whoami's role, managers that may read, an app that writes
// cached_available_models itself, and the records the operator must never touch.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../../local/app/server.ts";

let server: AppServer;
let clock: number;

beforeEach(async () => {
  clock = Date.parse("2026-11-20T10:00:00Z");
  server = await startAppServer({ now: () => clock });
});
afterEach(() => server.stop());

async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Token ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

describe("whoami", () => {
  it.each([
    ["owner", "OW"],
    ["administrator", "AD"],
    ["manager", "MA"],
    ["reviewer", "RE"],
    ["annotator", "AN"],
  ] as const)("says a %s's role as the SDK spells it (%s)", async (role, code) => {
    const user = server.state.addUser({ role, organization: 4 });
    const me = await call(user.legacyToken, "GET", "/api/current-user/whoami");
    expect(me.json.organization_membership).toEqual({ role: code, organization_id: 4, active: true });
  });

  it("leaves organization_membership out like older apps when told", async () => {
    const user = server.state.addUser({ role: "owner" });
    server.state.behaviour.whoamiShowsRole = false;
    const me = await call(user.legacyToken, "GET", "/api/current-user/whoami");
    expect(me.json).not.toHaveProperty("organization_membership");
  });
});

describe("managers", () => {
  it("get 403 everywhere by default, and may read but not write when the app allows it", async () => {
    const manager = server.state.addUser({ role: "manager" });
    expect((await call(manager.legacyToken, "GET", "/api/model-provider-connections/")).status).toBe(403);
    server.state.behaviour.managersMayRead = true;
    expect((await call(manager.legacyToken, "GET", "/api/model-provider-connections/")).status).toBe(200);
    const post = await call(manager.legacyToken, "POST", "/api/model-provider-connections/", {
      provider: "OpenAI",
    });
    expect(post.status).toBe(403);
    expect(server.state.listConnections()).toEqual([]);
  });
});

describe("an app that writes cached_available_models itself", () => {
  it("within the write: the answer already shows the app's list", async () => {
    const owner = server.state.addUser({ role: "owner" });
    server.state.behaviour.writesCachedModels = { value: "app-own", when: "duringWrite" };
    const created = await call(owner.legacyToken, "POST", "/api/model-provider-connections/", {
      cached_available_models: "ours",
    });
    expect(created.json.cached_available_models).toBe("app-own");
    expect(server.state.getConnection(created.json.id)?.updated_at).toBe(created.json.updated_at);
  });

  it("after the write: the answer shows ours, the record then the app's, with a later updated_at", async () => {
    const owner = server.state.addUser({ role: "owner" });
    server.state.behaviour.writesCachedModels = { value: "app-own", when: "afterWrite" };
    const created = await call(owner.legacyToken, "POST", "/api/model-provider-connections/", {
      cached_available_models: "ours",
    });
    const patched = await call(
      owner.legacyToken,
      "PATCH",
      `/api/model-provider-connections/${created.json.id}/`,
      {
        cached_available_models: "ours again",
      },
    );
    expect(patched.json.cached_available_models).toBe("ours again");
    const stored = server.state.getConnection(created.json.id);
    expect(stored?.cached_available_models).toBe("app-own");
    // Same server millisecond, still a later updated_at: each write moves it.
    expect(Date.parse(stored?.updated_at as string)).toBeGreaterThan(Date.parse(patched.json.updated_at));
    expect(Date.parse(patched.json.updated_at)).toBeGreaterThan(Date.parse(created.json.updated_at));
  });
});

describe("records the operator must never touch", () => {
  it("are seeded as the app holds them and listed to owners", async () => {
    const owner = server.state.addUser({ role: "owner" });
    const internal = server.state.addInternalConnection(1, { provider: "OpenAI" });
    const personal = server.state.addUserConnection(1, owner.id, { provider: "Anthropic", api_key: "k" });
    expect(internal).toMatchObject({ is_internal: true, scope: "Organization" });
    expect(personal).toMatchObject({ is_internal: false, scope: "User", created_by: { id: owner.id } });
    const list = await call(owner.legacyToken, "GET", "/api/model-provider-connections/");
    expect(list.json.map((r: { id: number }) => r.id)).toEqual([internal.id, personal.id]);
  });
});
