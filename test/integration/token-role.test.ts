// The token's role: from whoami's organization_membership.role when the app says it, so a manager (who may read
// connections in some app versions) gets InsufficientRole before any write is tried; from a 403 when it does not.
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
  putSecret,
  startAppWithOwner,
  waitForCondition,
  waitForOrganizationCondition,
} from "../support/world.ts";

const KEY = "canary-token-role-key-9e13b2";
const MANAGER_TOKEN = "canary-token-role-manager-c40d7e";
const OLD_APP_MANAGER_TOKEN = "canary-token-role-old-manager-18af";
const ANNOTATOR_TOKEN = "canary-token-role-annotator-5b62";

let namespace: string;
let operator: TestOperator;
const worlds: AppWithOwner[] = [];

async function worldWith(role: "manager" | "annotator", token: string): Promise<AppWithOwner> {
  const w = await startAppWithOwner();
  worlds.push(w);
  w.app.state.addUser({ role, organization: 1, legacyToken: token });
  return w;
}

const writes = (w: AppWithOwner) =>
  w.app.state.requests.filter(
    (r) => r.method !== "GET" && r.path.startsWith("/api/model-provider-connections"),
  );
const connectionFor = (name: string, organization: string) =>
  createConnection(namespace, name, {
    organizationRef: { name: organization },
    provider: "OpenAI",
    openAI: { apiKeySecretRef: { name: "cred", key: "api-key" } },
  });
const readyMessage = (o: { status?: { conditions?: { type: string; message?: string }[] } }) =>
  o.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("token-role");
  await putSecret(namespace, "cred", { "api-key": KEY });
  operator = await startTestOperator({ namespace, checkModels: answersValid("gpt-4o") });
});

afterAll(async () => {
  try {
    if (operator) {
      await expectNoLeaks({
        namespace,
        operator,
        secrets: [KEY, MANAGER_TOKEN, OLD_APP_MANAGER_TOKEN, ANNOTATOR_TOKEN, ...worlds.map((w) => w.token)],
      });
    }
  } finally {
    await operator?.stop();
    for (const w of worlds) await w.app.stop();
  }
});

describe("an app whose whoami says the role", () => {
  it("gives a manager who may read connections InsufficientRole before any write is tried", async () => {
    const w = await worldWith("manager", MANAGER_TOKEN);
    w.app.state.behaviour.managersMayRead = true;
    await createOrganization(namespace, "managed", w.app.url, MANAGER_TOKEN);
    await connectionFor("by-manager", "managed");
    const organization = await waitForOrganizationCondition(
      namespace,
      "managed",
      "Ready",
      "False",
      "InsufficientRole",
    );
    expect(readyMessage(organization)).toContain("role MA");
    expect(readyMessage(organization)).toContain("owner or administrator");
    const c = await waitForCondition(namespace, "by-manager", "Ready", "False", "InsufficientRole");
    expect(c.status?.appConnectionId).toBeUndefined();
    expect(writes(w)).toEqual([]);
    // The role settled it: no probing list either.
    expect(w.app.state.requests.filter((r) => r.path === "/api/model-provider-connections/")).toEqual([]);
    await waitFor(
      async () =>
        (await eventsFor(namespace, "managed")).some((l) => l.startsWith("Warning InsufficientRole:")),
      { description: "an InsufficientRole Event on the Organization" },
    );
  });
});

describe("an app whose whoami does not say the role", () => {
  it("learns it from the 403 on a read", async () => {
    const w = await worldWith("annotator", ANNOTATOR_TOKEN);
    w.app.state.behaviour.whoamiShowsRole = false;
    await createOrganization(namespace, "annotated", w.app.url, ANNOTATOR_TOKEN);
    await connectionFor("by-annotator", "annotated");
    const organization = await waitForOrganizationCondition(
      namespace,
      "annotated",
      "Ready",
      "False",
      "InsufficientRole",
    );
    expect(readyMessage(organization)).toContain("403");
    await waitForCondition(namespace, "by-annotator", "Ready", "False", "InsufficientRole");
    expect(writes(w)).toEqual([]);
  });

  it("learns it from the 403 on the first write when reads are allowed, and says InsufficientRole", async () => {
    const w = await worldWith("manager", OLD_APP_MANAGER_TOKEN);
    w.app.state.behaviour.whoamiShowsRole = false;
    w.app.state.behaviour.managersMayRead = true;
    await createOrganization(namespace, "old-app", w.app.url, OLD_APP_MANAGER_TOKEN);
    await connectionFor("by-old-manager", "old-app");
    const c = await waitForCondition(namespace, "by-old-manager", "Ready", "False", "InsufficientRole");
    expect(c.status?.appConnectionId).toBeUndefined();
    expect(writes(w).map((r) => [r.method, r.status])).toContainEqual(["POST", 403]);
    expect(w.app.state.listConnections()).toEqual([]);
  });
});
