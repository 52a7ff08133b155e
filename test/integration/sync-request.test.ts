// On-demand requests through `kubectl modelkeys`: sync (modelkeys.dev/sync-requested-at writes the record and its
// key to the app again), refresh (a model check now), status (one screen), rotate (refused for a key in a
// Secret), each waiting with --wait until the operator has acted on that very value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATIONS } from "../../crds/index.ts";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { grant, grantEvents, runPlugin, serviceAccountKubeconfig } from "../support/plugin.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  eventsFor,
  getConnection,
  patchConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-sync-key-4c2e81";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
let kubeconfig: string;
let id: number;

const writesOf = (recordId: number) =>
  world.app.state.requests.filter(
    (r) => r.method === "PATCH" && r.path === `/api/model-provider-connections/${recordId}/`,
  );

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("sync-request");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "llm", { "api-key": KEY });
  operator = await startTestOperator({ namespace, checkModels: answersValid("llama3.1") });
  await createConnection(namespace, "llm", {
    organizationRef: { name: "acme" },
    provider: "Custom",
    custom: {
      name: "llama3.1",
      endpoint: "http://models.internal/v1",
      apiKeySecretRef: { name: "llm", key: "api-key" },
    },
  });
  id = (await waitForCondition(namespace, "llm", "Ready", "True")).status?.appConnectionId as number;
  // An operator of the connections: may read and annotate our kinds, and read Events; no Secrets.
  await grant(namespace, "operator-user", "modelkeys-view");
  await grant(namespace, "operator-user", "modelkeys-edit");
  await grantEvents(namespace, "operator-user");
  kubeconfig = await serviceAccountKubeconfig(namespace, "operator-user");
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

describe("sync", () => {
  it("writes the record and its key again although nothing differs, and --wait sees it done", async () => {
    await waitFor(() => operator.controller.pending() === 0, { description: "an idle queue" });
    world.app.state.clearRequests();
    const result = await runPlugin(["sync", "llm", "--wait", "--timeout", "60s"], kubeconfig);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`synced: app record ${id}`);
    expect(writesOf(id)).toHaveLength(1);
    expect((writesOf(id)[0]?.body as { api_key?: string } | undefined)?.api_key).toBe(KEY);
    const c = await getConnection(namespace, "llm");
    expect(c?.status?.syncRequestedAt).toBe(c?.metadata.annotations?.[ANNOTATIONS.syncRequestedAt]);
    expect(await eventsFor(namespace, "llm")).toContainEqual(
      expect.stringMatching(/^Normal SyncRequested: /),
    );
  });

  it("acts once per value: the same value again writes nothing", async () => {
    const c = await getConnection(namespace, "llm");
    world.app.state.clearRequests();
    // An unrelated change makes the operator reconcile (another controller's finalizer); the handled value must
    // not write again.
    const done = () =>
      operator
        .logs()
        .split("\n")
        .filter((line) => line.includes('"event":"reconcile.done"') && line.includes(`/${namespace}/llm"`))
        .length;
    const before = done();
    const finalizers = c?.metadata.finalizers ?? [];
    await patchConnection(namespace, "llm", {
      metadata: { finalizers: [...finalizers, "example.com/hold"] },
    });
    await waitFor(() => done() > before && operator.controller.pending() === 0, {
      description: "a reconcile after the finalizer change",
    });
    await patchConnection(namespace, "llm", { metadata: { finalizers } });
    expect(writesOf(id)).toEqual([]);
    expect((await getConnection(namespace, "llm"))?.status?.syncRequestedAt).toBe(c?.status?.syncRequestedAt);
  });
});

describe("refresh and status", () => {
  it("refresh --wait returns once the models were checked for this request", async () => {
    const result = await runPlugin(["refresh", "llm", "--wait", "--timeout", "60s"], kubeconfig);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/models checked at \S+: 1 available/);
    const c = await getConnection(namespace, "llm");
    expect(c?.status?.refreshRequestedAt).toBe(c?.metadata.annotations?.[ANNOTATIONS.refreshRequestedAt]);
  });

  it("status shows conditions, models, the key's last rotation and recent Events", async () => {
    const result = await runPlugin(["status", "llm"], kubeconfig);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ProviderConnection ${namespace}/llm`);
    expect(result.stdout).toMatch(/Key:\s+sha256:[0-9a-f]{12}/);
    expect(result.stdout).toMatch(/Last rotation:\s+\d{4}-\d\d-\d\dT/);
    expect(result.stdout).toMatch(/^Ready\s+True\s+Synced/m);
    expect(result.stdout).toMatch(/^llama3\.1\s+yes/m);
    expect(result.stdout).toMatch(/Normal\s+SyncRequested/);
    expect(result.stdout).not.toContain(KEY);
  });

  it("rotate is refused (exit 2) for a key held in a Secret, with how to rotate it", async () => {
    const result = await runPlugin(["rotate", "llm"], kubeconfig);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Secret");
  });

  it("a wait that times out exits 1 with the connection's Ready reason (release waits for a deletion)", async () => {
    const result = await runPlugin(["release", "llm", "--wait", "--timeout", "2s"], kubeconfig);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/timed out after 2s: not yet; Ready=True \(Synced\)/);
    expect(
      (await getConnection(namespace, "llm"))?.metadata.annotations?.[ANNOTATIONS.releaseFinalizer],
    ).toBe("true");
  });
});
