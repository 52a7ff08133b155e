// Other tools' metadata on our objects: labels and annotations that are not ours (a GitOps tool's tracking id,
// `kubectl annotate`, 200 KiB of notes) are neither reconciled nor kept by the operator, and they cost the app
// and the status nothing; an annotation of ours on the same object is still acted on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATIONS, type ProviderConnection } from "../../crds/index.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  getConnection,
  patchConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

const custom = (name: string) => ({
  organizationRef: { name: "acme" },
  provider: "Custom",
  custom: { name, endpoint: "http://models.internal/v1", apiKeySecretRef: { name: "llm", key: "api-key" } },
});

/** The keys the operator reconciled, in order, from its debug log. */
const reconciled = () =>
  operator
    .logs()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event?: string; key?: string })
    .filter((entry) => entry.event?.startsWith("reconcile.") && entry.key)
    .map((entry) => entry.key as string);

/** Asks for a sync of `name` with an annotation of ours and waits until the operator has handled that value. */
async function syncAndWait(name: string, value: string): Promise<ProviderConnection> {
  await patchConnection(namespace, name, {
    metadata: { annotations: { [ANNOTATIONS.syncRequestedAt]: value } },
  });
  return await waitFor(
    async () => {
      const connection = await getConnection(namespace, name);
      return connection?.status?.syncRequestedAt === value && operator.controller.pending() === 0
        ? connection
        : undefined;
    },
    { timeoutMs: 30_000, description: `${name} synced for ${value}` },
  );
}

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("foreign-metadata");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "llm", { "api-key": "foreign-metadata-key" });
  operator = await startTestOperator({ namespace, checkModels: answersValid("llama3.1") });
  await createConnection(namespace, "tagged", custom("llama3.1"));
  await createConnection(namespace, "barrier", custom("llama3.2"));
  await waitForCondition(namespace, "tagged", "Ready", "True");
  await waitForCondition(namespace, "barrier", "Ready", "True");
});

afterAll(async () => {
  await operator?.stop();
  await world?.app.stop();
});

describe("metadata that is not ours", () => {
  it("labels and other tools' annotations, however large, trigger no reconcile, app request or status write", async () => {
    const before = (await getConnection(namespace, "tagged")) as ProviderConnection;
    const reconciledBefore = reconciled().length;
    const appRequestsBefore = world.app.state.requests.length;
    await patchConnection(namespace, "tagged", {
      metadata: {
        labels: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`team.example/l${i}`, "v"])),
        annotations: {
          "example.com/notes": "x".repeat(200 * 1024),
          "argocd.argoproj.io/tracking-id": `apps:modelkeys.dev/ProviderConnection:${namespace}/tagged`,
        },
      },
    });
    // A request of ours on another connection: the one watch delivers both changes in order, so once this one is
    // handled and the queue is empty, any reconcile the first change asked for has run.
    await syncAndWait("barrier", "barrier-1");
    const since = reconciled().slice(reconciledBefore);
    expect(since).toContain(`ProviderConnection/${namespace}/barrier`);
    expect(since.filter((key) => key.endsWith("/tagged"))).toEqual([]);
    const after = (await getConnection(namespace, "tagged")) as ProviderConnection;
    expect(after.status).toEqual(before.status);
    expect(after.metadata.labels?.["team.example/l7"]).toBe("v"); // the change itself stands
    const appRequests = world.app.state.requests.slice(appRequestsBefore);
    expect(appRequests.filter((r) => r.path.includes(`/${before.status?.appConnectionId}/`))).toEqual([]);
  });

  it("an annotation of ours beside them is still acted on", async () => {
    const synced = await syncAndWait("tagged", "tagged-1");
    expect(synced.metadata.annotations?.["example.com/notes"]).toHaveLength(200 * 1024);
    expect(synced.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });
});
