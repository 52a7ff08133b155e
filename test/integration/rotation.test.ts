// Rotation: a new value in the Secret reaches the app (PATCH with the new key) within 5 seconds, status shows the
// new fingerprint and rotation time, and an Event says CredentialRotated. Under rotationPolicy Verify (the default)
// a key the provider rejects is held while the app's key works; a provider outage never holds it; Immediate pushes.
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoLeaks, findLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { startTestOperator, type TestOperator } from "../support/operator.ts";
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

const FIRST_KEY = "canary-rotation-first-4b1c9e";
const SECOND_KEY = "canary-rotation-second-a27d03";
const THIRD_KEY = "canary-rotation-third-d90f6b";
const FOURTH_KEY = "canary-rotation-fourth-71c5aa";
const FIFTH_KEY = "canary-rotation-fifth-0b93e4";
/** The provider stand-in rejects these keys (401) or cannot answer for them (503). */
const REJECTED_KEY = "canary-rotation-rejected-5e02c7";
const REJECTED_AGAIN_KEY = "canary-rotation-rejected-again-c4f18a";
const OUTAGE_KEY = "canary-rotation-outage-93ad51";
const ROTATION_DEADLINE_MS = 5_000;

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;

/** Model checks of these keys wait until the test opens their gate: a provider that answers slowly. */
const gates = new Map<string, { started: boolean; open: () => void; opened: Promise<void> }>();

function holdChecksOf(key: string) {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const gate = { started: false, open, opened };
  gates.set(key, gate);
  return gate;
}

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("rotation");
  world = await startAppWithOwner();
  await createOrganization(namespace, "acme", world.app.url, world.token);
  operator = await startTestOperator({
    namespace,
    checkModels: async ({ credentials }) => {
      const gate = gates.get(credentials.apiKey ?? "");
      if (gate) {
        gate.started = true;
        await gate.opened;
      }
      if (credentials.apiKey === REJECTED_KEY || credentials.apiKey === REJECTED_AGAIN_KEY)
        return {
          outcome: "InvalidCredentials",
          message: "Incorrect API key provided (HTTP 401)",
          models: [],
        };
      if (credentials.apiKey === OUTAGE_KEY)
        return { outcome: "Unavailable", message: "the provider answered HTTP 503", models: [] };
      const model = credentials.apiKey === THIRD_KEY ? "gpt-4.1" : "gpt-4o";
      return { outcome: "Valid", message: "checked", models: [{ name: model, available: true }] };
    },
  });
});

afterAll(async () => {
  // A check still held would keep the operator from stopping.
  for (const gate of gates.values()) gate.open();
  try {
    if (operator)
      await expectNoLeaks({
        namespace,
        operator,
        secrets: [
          FIRST_KEY,
          SECOND_KEY,
          THIRD_KEY,
          FOURTH_KEY,
          FIFTH_KEY,
          REJECTED_KEY,
          REJECTED_AGAIN_KEY,
          OUTAGE_KEY,
          world.token,
        ],
      });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

it("pushes a rotated key to the app within 5 seconds and records the rotation", async () => {
  await putSecret(namespace, "openai", { "api-key": FIRST_KEY });
  await createConnection(namespace, "openai", {
    organizationRef: { name: "acme" },
    provider: "OpenAI",
    openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
  });
  const before = await waitForCondition(namespace, "openai", "Ready", "True");
  const id = before.status?.appConnectionId as number;
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(FIRST_KEY);
  const fingerprintBefore = before.status?.credentialFingerprint;
  const rotatedBefore = before.status?.credentialRotatedTime as string;
  expect(fingerprintBefore).toMatch(/^sha256:[0-9a-f]{12}$/);
  expect(rotatedBefore).toBeTruthy();

  world.app.state.clearRequests();
  const secretUpdatedAt = Date.now();
  await putSecret(namespace, "openai", { "api-key": SECOND_KEY });
  const patch = await waitFor(
    () =>
      world.app.state.requests.find(
        (r) =>
          r.method === "PATCH" &&
          r.path === `/api/model-provider-connections/${id}/` &&
          (r.body as { api_key?: string }).api_key === SECOND_KEY,
      ),
    { timeoutMs: 15_000, intervalMs: 20, description: "PATCH with the rotated key" },
  );
  const latencyMs = patch.at - secretUpdatedAt;
  console.info(`rotation latency: ${latencyMs} ms from the Secret update to the app's PATCH`);
  expect(latencyMs).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  expect(patch.status).toBe(200);
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(SECOND_KEY);

  const after = await waitFor(
    async () => {
      const c = await getConnection(namespace, "openai");
      return c?.status?.credentialFingerprint !== fingerprintBefore ? c : undefined;
    },
    { description: "a new credentialFingerprint in status" },
  );
  expect(after.status?.credentialFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
  expect(Date.parse(after.status?.credentialRotatedTime as string)).toBeGreaterThan(
    Date.parse(rotatedBefore),
  );
  expect(after.status?.appConnectionId).toBe(id);
  // Still one record: rotation patches, it never re-creates.
  expect(world.app.state.listConnections()).toHaveLength(1);
  expect(world.app.state.requests.filter((r) => r.method === "POST")).toHaveLength(0);

  const events = await waitFor(
    async () => {
      const lines = await eventsFor(namespace, "openai");
      return lines.some((line) => line.startsWith("Normal CredentialRotated:")) ? lines : undefined;
    },
    { description: "a CredentialRotated Event" },
  );
  const rotated = events.find((line) => line.startsWith("Normal CredentialRotated:"));
  // The Event names fingerprints, never the key.
  expect(rotated).toContain(after.status?.credentialFingerprint);
  expect(rotated).toContain(fingerprintBefore);
});

it("the canary scan finds a value that is there (the scan is not blind)", async () => {
  // The fingerprint is in status, events and logs: a scan for it must report it.
  const c = await getConnection(namespace, "openai");
  const leaks = await findLeaks({
    namespace,
    operator,
    secrets: [c?.status?.credentialFingerprint as string],
  });
  const places = leaks.map((l) => l.where);
  expect(places).toContain("operator logs");
  expect(places).toContain("providerconnections/openai");
  expect(places.some((p) => p.startsWith("Event "))).toBe(true);
});

it("does not hold a rotation back while the provider is slow to check the new key", async () => {
  const before = await waitForCondition(namespace, "openai", "Ready", "True");
  const id = before.status?.appConnectionId as number;
  const gate = holdChecksOf(THIRD_KEY);
  world.app.state.clearRequests();
  const secretUpdatedAt = Date.now();
  await putSecret(namespace, "openai", { "api-key": THIRD_KEY });
  const patch = await waitFor(
    () =>
      world.app.state.requests.find(
        (r) => r.method === "PATCH" && (r.body as { api_key?: string }).api_key === THIRD_KEY,
      ),
    { timeoutMs: 15_000, intervalMs: 20, description: "PATCH with the rotated key while the check hangs" },
  );
  expect(patch.at - secretUpdatedAt).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  expect(patch.path).toBe(`/api/model-provider-connections/${id}/`);

  // The new key is still checked: once the provider answers, its models reach status and the app.
  await waitFor(() => gate.started, { description: "the model check of the new key started" });
  gate.open();
  const after = await waitFor(
    async () => {
      const c = await getConnection(namespace, "openai");
      return c?.status?.models?.some((m) => m.name === "gpt-4.1") ? c : undefined;
    },
    { description: "the new key's models in status" },
  );
  expect(Date.parse(after.status?.modelsCheckedTime as string)).toBeGreaterThanOrEqual(
    Date.parse(after.status?.credentialRotatedTime as string),
  );
  await waitFor(() => world.app.state.getConnection(id)?.cached_available_models === "gpt-4.1", {
    description: "the app's cached_available_models updated",
  });
  await waitForCondition(namespace, "openai", "Ready", "True");
});

/** Waits for a PATCH carrying `key` and returns how long after `since` it reached the app. */
async function pushedWithin(key: string, since: number): Promise<number> {
  const patch = await waitFor(
    () =>
      world.app.state.requests.find(
        (r) => r.method === "PATCH" && (r.body as { api_key?: string }).api_key === key,
      ),
    { timeoutMs: 15_000, intervalMs: 20, description: "PATCH with the new key" },
  );
  return patch.at - since;
}

it("pushes the key of a Secret that was deleted and created again (as secret syncers do)", async () => {
  await waitForCondition(namespace, "openai", "Ready", "True");
  world.app.state.clearRequests();
  await testCluster().core.deleteNamespacedSecret({ namespace, name: "openai" });
  await waitForCondition(namespace, "openai", "Ready", "False", "SecretNotFound");
  const recreatedAt = Date.now();
  await putSecret(namespace, "openai", { "api-key": FOURTH_KEY });
  expect(await pushedWithin(FOURTH_KEY, recreatedAt)).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  await waitForCondition(namespace, "openai", "Ready", "True");
  expect(world.app.state.listConnections()).toHaveLength(1);
});

it("pushes the key of another Secret when the connection is pointed at it, and follows that Secret", async () => {
  await putSecret(namespace, "openai-next", { token: FIFTH_KEY });
  world.app.state.clearRequests();
  const changedAt = Date.now();
  await patchConnection(namespace, "openai", {
    spec: { openAI: { apiKeySecretRef: { name: "openai-next", key: "token" } } },
  });
  expect(await pushedWithin(FIFTH_KEY, changedAt)).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);

  // The old Secret no longer matters; the new one is watched.
  world.app.state.clearRequests();
  await putSecret(namespace, "openai", { "api-key": FIRST_KEY });
  const rotatedAt = Date.now();
  await putSecret(namespace, "openai-next", { token: SECOND_KEY });
  expect(await pushedWithin(SECOND_KEY, rotatedAt)).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  expect(
    world.app.state.requests.some((r) => (r.body as { api_key?: string } | undefined)?.api_key === FIRST_KEY),
  ).toBe(false);
});

const pushedKeys = () =>
  world.app.state.requests
    .filter((r) => r.method === "PATCH")
    .map((r) => (r.body as { api_key?: string } | undefined)?.api_key);
const rotationHeldWarnings = async () =>
  (await eventsFor(namespace, "openai")).filter((line) => line.startsWith("Warning RotationHeld:"));

it("Verify holds a rotated key the provider rejects: the app keeps its working key, RotationHeld, one Warning", async () => {
  const before = await waitForCondition(namespace, "openai", "Ready", "True");
  const id = before.status?.appConnectionId as number;
  expect(before.spec.rotationPolicy).toBe("Verify");
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(SECOND_KEY);
  world.app.state.clearRequests();

  await putSecret(namespace, "openai-next", { token: REJECTED_KEY });
  const held = await waitForCondition(namespace, "openai", "CredentialsValid", "False", "RotationHeld");
  expect(held.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
    status: "False",
    reason: "RotationHeld",
  });
  expect(held.status?.credentialFingerprint).toBe(before.status?.credentialFingerprint);
  expect(held.status?.heldCredentialFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(SECOND_KEY);
  expect(pushedKeys()).not.toContain(REJECTED_KEY);
  await waitFor(async () => ((await rotationHeldWarnings()).length > 0 ? true : undefined), {
    description: "a RotationHeld Warning",
  });

  // Another rejected key is held too; the hold says so once per change of reason, not per key or reconcile.
  await putSecret(namespace, "openai-next", { token: REJECTED_AGAIN_KEY });
  await waitFor(
    async () => {
      const c = await getConnection(namespace, "openai");
      return c?.status?.heldCredentialFingerprint !== held.status?.heldCredentialFingerprint ? c : undefined;
    },
    { description: "the second rejected key held" },
  );
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(SECOND_KEY);
  expect(pushedKeys()).not.toContain(REJECTED_AGAIN_KEY);
  expect(await rotationHeldWarnings()).toHaveLength(1);
});

it("Verify does not hold a rotation while the provider cannot answer (rotation never waits on an outage)", async () => {
  const before = await getConnection(namespace, "openai");
  const id = before?.status?.appConnectionId as number;
  world.app.state.clearRequests();
  const rotatedAt = Date.now();
  await putSecret(namespace, "openai-next", { token: OUTAGE_KEY });
  expect(await pushedWithin(OUTAGE_KEY, rotatedAt)).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  expect(world.app.state.getConnection(id)?.secrets.api_key).toBe(OUTAGE_KEY);
  const after = await waitForCondition(
    namespace,
    "openai",
    "CredentialsValid",
    "Unknown",
    "ProviderUnavailable",
  );
  expect(after.status?.heldCredentialFingerprint).toBeUndefined();
  expect(await rotationHeldWarnings()).toHaveLength(1);
});

it("Immediate pushes a rejected key first and reports it invalid after", async () => {
  await patchConnection(namespace, "openai", { spec: { rotationPolicy: "Immediate" } });
  await putSecret(namespace, "openai-next", { token: FIFTH_KEY });
  await waitForCondition(namespace, "openai", "CredentialsValid", "True");
  world.app.state.clearRequests();
  const rotatedAt = Date.now();
  await putSecret(namespace, "openai-next", { token: REJECTED_KEY });
  expect(await pushedWithin(REJECTED_KEY, rotatedAt)).toBeLessThanOrEqual(ROTATION_DEADLINE_MS);
  await waitForCondition(namespace, "openai", "CredentialsValid", "False", "InvalidCredentials");
  expect(await rotationHeldWarnings()).toHaveLength(1);
});
