// The Organization's failures, each with its condition on the Organization and on its connections: not found,
// a token the app rejects (401), a token without the role (403), a pinned organization id that does not match;
// and a personal access token, which works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  eventsFor,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
  waitForOrganizationCondition,
} from "../support/world.ts";

const KEY = "canary-org-errors-key-7a4410";
const BAD_TOKEN = "canary-bad-token-e1c93b0f";
const ANNOTATOR_TOKEN = "canary-annotator-token-55d2a8";
const REVOKED_TOKEN = "canary-revoked-token-3e09c7";
const ROTATED_KEY = "canary-org-errors-rotated-key-b4";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
/** Every token handed out in this file (scanned for in afterAll). */
const tokens: string[] = [BAD_TOKEN, ANNOTATOR_TOKEN, REVOKED_TOKEN, ROTATED_KEY];

/** A Custom connection (per model, so several share the app's organization) of Organization `organization`. */
async function connectionOf(name: string, organization: string): Promise<void> {
  await createConnection(namespace, name, {
    organizationRef: { name: organization },
    provider: "Custom",
    custom: {
      name,
      endpoint: "http://models.internal/v1",
      apiKeySecretRef: { name: "cred", key: "api-key" },
    },
  });
}
const readyMessage = (c: { status?: { conditions?: { type: string; message?: string }[] } } | undefined) =>
  c?.status?.conditions?.find((x) => x.type === "Ready")?.message ?? "";
const connectionWrites = () =>
  world.app.state.requests.filter(
    (r) => r.method !== "GET" && r.path.startsWith("/api/model-provider-connections/"),
  );

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("organization-errors");
  world = await startAppWithOwner();
  tokens.push(world.token);
  await putSecret(namespace, "cred", { "api-key": KEY });
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, ...tokens] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

describe("a missing Organization", () => {
  it("is OrganizationNotFound on the connection, which syncs once the Organization appears", async () => {
    await connectionOf("orphan", "nowhere");
    const c = await waitForCondition(namespace, "orphan", "Ready", "False", "OrganizationNotFound");
    expect(readyMessage(c)).toContain("nowhere");
    expect(c.status?.conditions?.find((x) => x.type === "AppSynced")?.reason).toBe("OrganizationNotFound");
    await waitFor(
      async () =>
        (await eventsFor(namespace, "orphan")).some((l) => l.startsWith("Warning OrganizationNotFound:")),
      { description: "an OrganizationNotFound Event" },
    );
    expect(connectionWrites()).toEqual([]);

    await createOrganization(namespace, "nowhere", world.app.url, world.token);
    const synced = await waitForCondition(namespace, "orphan", "Ready", "True");
    expect(world.app.state.getConnection(synced.status?.appConnectionId as number)).toBeDefined();
  });
});

describe("a token the app rejects (401)", () => {
  it("is InvalidToken on the Organization and on its connection, until the token is fixed", async () => {
    world.app.state.clearRequests();
    await createOrganization(namespace, "badtoken", world.app.url, BAD_TOKEN);
    await connectionOf("rejected", "badtoken");
    const organization = await waitForOrganizationCondition(
      namespace,
      "badtoken",
      "Ready",
      "False",
      "InvalidToken",
    );
    expect(organization.status?.organizationId).toBeUndefined();
    const c = await waitForCondition(namespace, "rejected", "Ready", "False", "InvalidToken");
    expect(readyMessage(c)).toContain("401");
    // Rejected at the door: the app answered 401 and nothing was written.
    expect(world.app.state.requests.some((r) => r.status === 401)).toBe(true);
    expect(connectionWrites()).toEqual([]);

    // Level-based: a good token in the same Secret heals both, with no other change.
    await putSecret(namespace, "badtoken-token", { token: world.token });
    await waitForOrganizationCondition(namespace, "badtoken", "Ready", "True");
    await waitForCondition(namespace, "rejected", "Ready", "True");
  });
});

describe("a token revoked while in use", () => {
  it("is InvalidToken on the connection that met the 401 and, soon after, on the Organization", async () => {
    world.app.state.addUser({ role: "owner", organization: 1, legacyToken: REVOKED_TOKEN });
    await createOrganization(namespace, "revoked", world.app.url, REVOKED_TOKEN);
    await putSecret(namespace, "revoked-cred", { "api-key": KEY });
    await createConnection(namespace, "revoked-llm", {
      organizationRef: { name: "revoked" },
      provider: "Custom",
      custom: {
        name: "revoked-llm",
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: "revoked-cred", key: "api-key" },
      },
    });
    await waitForCondition(namespace, "revoked-llm", "Ready", "True");
    await waitForOrganizationCondition(namespace, "revoked", "Ready", "True");

    world.app.state.revokeToken(REVOKED_TOKEN);
    // Nothing changes in the cluster but the connection's key: its reconcile meets the 401.
    await putSecret(namespace, "revoked-cred", { "api-key": ROTATED_KEY });
    await waitForCondition(namespace, "revoked-llm", "Ready", "False", "InvalidToken");
    // The Organization is asked again at once, not at the next resync (10 minutes here).
    await waitForOrganizationCondition(namespace, "revoked", "Ready", "False", "InvalidToken", 15_000);
  });
});

describe("a token without the role", () => {
  it("is InsufficientRole on the Organization and on its connection", async () => {
    world.app.state.addUser({ role: "annotator", organization: 1, legacyToken: ANNOTATOR_TOKEN });
    await createOrganization(namespace, "annotator", world.app.url, ANNOTATOR_TOKEN);
    await connectionOf("unprivileged", "annotator");
    const organization = await waitForOrganizationCondition(
      namespace,
      "annotator",
      "Ready",
      "False",
      "InsufficientRole",
    );
    // From whoami's role (token-role.test.ts covers apps that answer 403 instead).
    expect(readyMessage(organization)).toContain("owner or administrator");
    const c = await waitForCondition(namespace, "unprivileged", "Ready", "False", "InsufficientRole");
    expect(c.status?.appConnectionId).toBeUndefined();
    await waitFor(
      async () =>
        (await eventsFor(namespace, "annotator")).some((l) => l.startsWith("Warning InsufficientRole:")),
      { description: "an InsufficientRole Event on the Organization" },
    );
  });
});

describe("a pinned organization id", () => {
  it("that differs from the token's active organization is OrganizationMismatch", async () => {
    await createOrganization(namespace, "pinned", world.app.url, world.token, { organizationId: 7 });
    await connectionOf("mispinned", "pinned");
    const organization = await waitForOrganizationCondition(
      namespace,
      "pinned",
      "Ready",
      "False",
      "OrganizationMismatch",
    );
    expect(readyMessage(organization)).toContain("7");
    expect(readyMessage(organization)).toContain("1");
    await waitForCondition(namespace, "mispinned", "Ready", "False", "OrganizationMismatch");
    expect((await getConnection(namespace, "mispinned"))?.status?.appConnectionId).toBeUndefined();
  });

  it("that matches is Ready with the organization id", async () => {
    await createOrganization(namespace, "pinned-right", world.app.url, world.token, { organizationId: 1 });
    const organization = await waitForOrganizationCondition(namespace, "pinned-right", "Ready", "True");
    expect(organization.status?.organizationId).toBe(1);
  });
});

describe("a personal access token", () => {
  it("works: exchanged for an access token, sent as Bearer, the Organization and its connection Ready", async () => {
    const admin = world.app.state.addUser({ role: "administrator", organization: 1 });
    tokens.push(admin.refreshToken, admin.legacyToken);
    await createOrganization(namespace, "pat", world.app.url, admin.refreshToken);
    await connectionOf("by-pat", "pat");
    const organization = await waitForOrganizationCondition(namespace, "pat", "Ready", "True");
    expect(organization.status?.organizationId).toBe(1);
    expect(organization.status?.tokenKind).toBe("PersonalAccessToken");
    const c = await waitForCondition(namespace, "by-pat", "Ready", "True");
    const id = c.status?.appConnectionId as number;
    expect(world.app.state.getConnection(id)?.created_by).toMatchObject({ id: admin.id });

    const byAdmin = world.app.state.requests.filter((r) => r.userId === admin.id);
    expect(byAdmin.length).toBeGreaterThan(0);
    expect(byAdmin.every((r) => r.headers.authorization === "Bearer [redacted]")).toBe(true);
    expect(
      world.app.state.requests.some((r) => r.method === "POST" && r.path === "/api/token/refresh/"),
    ).toBe(true);
  });
});
