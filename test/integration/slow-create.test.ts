// A create that takes its time (apps that check the key with the provider before answering): writes have their
// own, longer timeout (--app-write-timeout), and a create that outlasts it is found and adopted, not duplicated.
import { afterEach, describe, expect, it } from "vitest";
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
} from "../support/world.ts";

const KEY = "canary-slow-create-key-3f8a61";

interface Scenario {
  namespace: string;
  app: AppWithOwner;
  operator: TestOperator;
}
let current: Scenario | undefined;

/** An app whose next create answers after `createLatencyMs` (and takes effect then, whoever still waits). */
async function scenario(flags: string[], createLatencyMs: number): Promise<Scenario> {
  const namespace = await testCluster().createTestNamespace("slow-create");
  await putSecret(namespace, "cred", { "api-key": KEY });
  const app = await startAppWithOwner();
  const operator = await startTestOperator({ namespace, flags, checkModels: answersValid("gemini-2.5-pro") });
  current = { namespace, app, operator };
  app.app.state.injectFault({
    match: { method: "POST", path: "/api/model-provider-connections/" },
    kind: "latency",
    ms: createLatencyMs,
  });
  await createOrganization(namespace, "acme", app.app.url, app.token);
  await createConnection(namespace, "gemini", {
    organizationRef: { name: "acme" },
    provider: "Gemini",
    gemini: { apiKeySecretRef: { name: "cred", key: "api-key" } },
  });
  return current;
}

const posts = (w: AppWithOwner) =>
  w.app.state.requests.filter((r) => r.method === "POST" && r.path === "/api/model-provider-connections/");

afterEach(async () => {
  if (!current) return;
  const { namespace, app, operator } = current;
  current = undefined;
  try {
    await expectNoLeaks({ namespace, operator, secrets: [KEY, app.token] });
  } finally {
    await operator.stop();
    await app.app.stop();
  }
});

describe("a create slower than a read may take", () => {
  it("is waited for with the write timeout: one POST, no error", async () => {
    const { namespace, app } = await scenario(["--app-timeout=1s", "--app-write-timeout=20s"], 2_500);
    const c = await waitForCondition(namespace, "gemini", "Ready", "True");
    expect(posts(app)).toHaveLength(1);
    expect(posts(app)[0]).toMatchObject({ fault: "latency", status: 201 });
    const records = app.app.state.listConnections();
    expect(records).toHaveLength(1);
    expect(c.status?.appConnectionId).toBe(records[0]?.id);
    const events = await eventsFor(namespace, "gemini");
    expect(events.filter((line) => line.includes("AppUnreachable"))).toEqual([]);
  });
});

describe("a create slower than the write timeout", () => {
  it("is not sent twice: the record the app made after the timeout is adopted", async () => {
    // The POST times out at 2 s; the app makes the record at 3.5 s; the operator looks again no sooner than one
    // write timeout after the timeout (4 s), so it finds the record instead of creating a second one.
    const { namespace, app } = await scenario(["--app-write-timeout=2s"], 3_500);
    const c = await waitForCondition(namespace, "gemini", "Ready", "True");
    expect(posts(app)).toHaveLength(1);
    expect(posts(app)[0]?.fault).toBe("latency");
    const records = app.app.state.listConnections();
    expect(records).toHaveLength(1);
    expect(c.status?.appConnectionId).toBe(records[0]?.id);
    expect(records[0]?.secrets.api_key).toBe(KEY);
    const events = await waitFor(
      async () => {
        const lines = await eventsFor(namespace, "gemini");
        return lines.some((line) => line.startsWith("Normal Adopted:")) ? lines : undefined;
      },
      { description: "an Adopted Event" },
    );
    // The timeout was said while it lasted (the app did not answer in time), and healed by adoption.
    expect(
      events.some((line) => line.startsWith("Warning AppUnreachable:") && line.includes("2000 ms")),
    ).toBe(true);
  });
});
