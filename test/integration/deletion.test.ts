// Deletion: the finalizer removes the app's record (Delete) or leaves it (Orphan); an Organization and its token
// Secret stay while connections need them; when the Organization is released anyway, deletion waits and says why,
// naming the annotation that releases the connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  deleteConnection,
  deleteOrganization,
  eventsFor,
  getConnection,
  getOrganization,
  patchConnection,
  patchOrganization,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-deletion-key-61fa3e";
const RELEASE = "modelkeys.dev/release";
const FINALIZER = "modelkeys.dev/app-connection";
const TOKEN_FINALIZER = "modelkeys.dev/organization-token";

let world: AppWithOwner;
let OTHER_USER: number;
let operator: TestOperator;
let namespace: string;

/** A Custom connection (per model, so many coexist in one organization) of Organization `organization`. */
async function readyConnection(
  name: string,
  organization: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  await createConnection(namespace, name, {
    organizationRef: { name: organization },
    provider: "Custom",
    custom: {
      name,
      endpoint: "http://models.internal/v1",
      apiKeySecretRef: { name: "cred", key: "api-key" },
    },
    ...extra,
  });
  const c = await waitForCondition(namespace, name, "Ready", "True");
  expect(c.metadata.finalizers).toContain(FINALIZER);
  return c.status?.appConnectionId as number;
}

const gone = (name: string) =>
  waitFor(async () => (await getConnection(namespace, name)) === undefined, {
    description: `${name} deleted`,
  });
const waitForEvent = (name: string, reason: string) =>
  waitFor(async () => (await eventsFor(namespace, name)).find((line) => line.includes(` ${reason}:`)), {
    description: `a ${reason} Event for ${name}`,
  });
/**
 * Waits for the deleting connection to report, in Ready, that its deletion is stuck for `reason` and how to
 * release it; returns the message. (Before the deletion, Ready may already be False for the same reason.)
 */
const waitForStuck = (name: string, reason: string) =>
  waitFor(
    async () => {
      const c = await getConnection(namespace, name);
      const ready = c?.status?.conditions?.find((x) => x.type === "Ready");
      return c?.metadata.deletionTimestamp &&
        ready?.status === "False" &&
        ready.reason === reason &&
        ready.message?.includes(`${RELEASE}=true`)
        ? ready.message
        : undefined;
    },
    { description: `${name} deletion waiting with ${reason}, naming ${RELEASE}` },
  );

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("deletion");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "cred", { "api-key": KEY });
  OTHER_USER = world.app.state.addUser({ role: "owner", organization: 1 }).id;
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

describe("deletionPolicy", () => {
  it("Delete (the default) removes the app's record", async () => {
    const id = await readyConnection("deleted", "acme");
    await deleteConnection(namespace, "deleted");
    await gone("deleted");
    expect(world.app.state.getConnection(id)).toBeUndefined();
    expect(
      world.app.state.requests.filter((r) => r.method === "DELETE").map((r) => [r.path, r.status]),
    ).toContainEqual([`/api/model-provider-connections/${id}/`, 204]);
    expect(await waitForEvent("deleted", "Deleted")).toContain(String(id));
  });

  it("Orphan leaves the app's record in place", async () => {
    const id = await readyConnection("orphaned", "acme", { deletionPolicy: "Orphan" });
    world.app.state.clearRequests();
    await deleteConnection(namespace, "orphaned");
    await gone("orphaned");
    expect(world.app.state.getConnection(id)).toMatchObject({ id, deployment_name: "orphaned" });
    expect(world.app.state.requests.filter((r) => r.method === "DELETE")).toEqual([]);
    expect(await waitForEvent("orphaned", "Orphaned")).toContain(String(id));
  });

  it("Delete of a record already deleted in the app just lets go", async () => {
    const id = await readyConnection("vanished", "acme");
    world.app.state.deleteConnection(id);
    await deleteConnection(namespace, "vanished");
    await gone("vanished");
    // A reconcile racing the hand deletion may have recreated the record first; either way none is left.
    expect(world.app.state.listConnections().filter((r) => r.deployment_name === "vanished")).toEqual([]);
    await waitForEvent("vanished", "Deleted");
  });

  it("Delete finds the record whose id a lost status write never recorded", async () => {
    // The connection waits for its Secret (no app write, no id in status) ...
    await createConnection(namespace, "unrecorded", {
      organizationRef: { name: "acme" },
      provider: "Custom",
      custom: {
        name: "unrecorded",
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: "not-yet", key: "api-key" },
      },
    });
    await waitForCondition(namespace, "unrecorded", "Ready", "False", "SecretNotFound");
    // ... while the app holds the record the operator made for it (the create whose answer was not recorded).
    const left = world.app.state.createConnection(
      1,
      {
        provider: "Custom",
        scope: "Model",
        deployment_name: "unrecorded",
        endpoint: "http://models.internal/v1",
      },
      world.userId,
    );
    const kept = world.app.state.createConnection(
      1,
      {
        provider: "Custom",
        scope: "Model",
        deployment_name: "unrecorded",
        endpoint: "http://models.internal/v1",
      },
      OTHER_USER,
    );
    await deleteConnection(namespace, "unrecorded");
    await gone("unrecorded");
    expect(world.app.state.getConnection(left.id)).toBeUndefined();
    // A record someone else made is never deleted by matching.
    expect(world.app.state.getConnection(kept.id)).toBeDefined();
    expect(await waitForEvent("unrecorded", "Deleted")).toContain(String(left.id));
  });

  it("Delete retries while the app fails, and finishes when it answers", async () => {
    const id = await readyConnection("retried", "acme");
    world.app.state.clearRequests();
    world.app.state.injectFault({ match: { method: "DELETE" }, kind: "status", status: 503, times: 3 });
    await deleteConnection(namespace, "retried");
    await gone("retried");
    expect(world.app.state.getConnection(id)).toBeUndefined();
    const deletes = world.app.state.requests.filter((r) => r.method === "DELETE").map((r) => r.status);
    expect(deletes).toEqual([503, 503, 503, 204]);
  });
});

describe("deletion that cannot reach the app", () => {
  /** Deletes the Organization and releases it by annotation, so it goes although connections still reference it. */
  const releaseOrganization = async (name: string) => {
    await deleteOrganization(namespace, name);
    await waitFor(
      async () =>
        (await getOrganization(namespace, name))?.status?.conditions?.find((c) => c.type === "Ready")
          ?.reason === "Deleting",
      { description: `Organization ${name} waiting for its connections` },
    );
    await patchOrganization(namespace, name, { metadata: { annotations: { [RELEASE]: "true" } } });
    await waitFor(async () => (await getOrganization(namespace, name)) === undefined, {
      description: `Organization ${name} gone`,
    });
  };

  it("waits when the Organization is gone, naming the release annotation, and lets go once annotated", async () => {
    await createOrganization(namespace, "doomed", world.app.url, world.token);
    const id = await readyConnection("stranded", "doomed");
    await releaseOrganization("doomed");
    await waitForCondition(namespace, "stranded", "Ready", "False", "OrganizationNotFound");
    world.app.state.clearRequests();

    await deleteConnection(namespace, "stranded");
    const message = await waitForStuck("stranded", "OrganizationNotFound");
    expect(message).toContain(`${RELEASE}=true`);
    expect(message).toContain(String(id));
    const stuck = await getConnection(namespace, "stranded");
    expect(stuck?.metadata.finalizers).toContain(FINALIZER);
    expect(stuck?.status?.conditions?.find((c) => c.type === "AppSynced")?.status).toBe("False");

    await patchConnection(namespace, "stranded", { metadata: { annotations: { [RELEASE]: "true" } } });
    await gone("stranded");
    // Released, not deleted: the record stays, and nothing was sent to the app.
    expect(world.app.state.getConnection(id)).toBeDefined();
    expect(world.app.state.requests.filter((r) => r.method === "DELETE")).toEqual([]);
    expect(await waitForEvent("stranded", "FinalizerReleased")).toContain(String(id));
  });

  it("keeps a deleted token Secret while the Organization needs it, so the connection's deletion cleans the app", async () => {
    await createOrganization(namespace, "tokenless", world.app.url, world.token);
    const id = await readyConnection("untokened", "tokenless");
    await waitFor(
      async () =>
        (
          await testCluster().core.readNamespacedSecret({ namespace, name: "tokenless-token" })
        ).metadata?.finalizers?.includes(TOKEN_FINALIZER),
      { description: "the token Secret protected" },
    );
    await testCluster().core.deleteNamespacedSecret({ namespace, name: "tokenless-token" });
    await deleteConnection(namespace, "untokened");
    await gone("untokened");
    expect(world.app.state.getConnection(id)).toBeUndefined();
    // Still needed by the live Organization: the Secret waits, readable, until the Organization goes.
    const secret = await testCluster().core.readNamespacedSecret({ namespace, name: "tokenless-token" });
    expect(secret.metadata?.deletionTimestamp).toBeDefined();
    await deleteOrganization(namespace, "tokenless");
    await waitFor(
      async () => {
        try {
          await testCluster().core.readNamespacedSecret({ namespace, name: "tokenless-token" });
          return false;
        } catch {
          return true;
        }
      },
      { description: "the token Secret gone with its Organization" },
    );
  });

  it("deletes the record once the Organization comes back before the release", async () => {
    await createOrganization(namespace, "returning", world.app.url, world.token);
    const id = await readyConnection("patient", "returning");
    await releaseOrganization("returning");
    await waitForCondition(namespace, "patient", "Ready", "False", "OrganizationNotFound");
    await deleteConnection(namespace, "patient");
    await waitForStuck("patient", "OrganizationNotFound");
    // The Organization's token Secret stayed; recreating the Organization lets the deletion finish properly.
    await createOrganization(namespace, "returning", world.app.url, world.token);
    await gone("patient");
    expect(world.app.state.getConnection(id)).toBeUndefined();
  });
});
