// While an Organization's app is down (the stand-in answers 503 to everything), its connections wait on one
// circuit breaker: one probe per interval reaches the app, not a request per connection; their conditions say
// AppUnreachable naming the Organization; when the app answers again they all resume, with the rotated key.
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectNoLeaks } from "../support/canary.ts";
import { testCluster } from "../support/cluster.ts";
import { answersValid, startTestOperator, type TestOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  getConnection,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const KEY = "canary-outage-key-2c81f0";
const ROTATED_KEY = "canary-outage-rotated-key-9d3e57";
const CONNECTIONS = 10;
const PROBE_INTERVAL_MS = 1_000;
/** The promise: every waiting connection resumes within 10 s of the app's return. */
const RESUME_DEADLINE_MS = 10_000;
const WHOAMI = "/api/current-user/whoami";

let world: AppWithOwner;
let operator: TestOperator;
let namespace: string;
const names = Array.from({ length: CONNECTIONS }, (_, i) => `model-${i}`);

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("app-outage");
  world = await startAppWithOwner();
  await putSecret(namespace, "cred", { "api-key": KEY });
  await createOrganization(namespace, "acme", world.app.url, world.token);
  operator = await startTestOperator({
    namespace,
    checkModels: answersValid("m"),
    flags: [`--app-probe-interval=${PROBE_INTERVAL_MS}ms`],
  });
  for (const name of names) {
    await createConnection(namespace, name, {
      organizationRef: { name: "acme" },
      provider: "Custom",
      custom: {
        name,
        endpoint: "http://models.internal/v1",
        apiKeySecretRef: { name: "cred", key: "api-key" },
      },
    });
  }
  for (const name of names) await waitForCondition(namespace, name, "Ready", "True");
});

afterAll(async () => {
  world?.app.state.clearFaults();
  try {
    if (operator) await expectNoLeaks({ namespace, operator, secrets: [KEY, ROTATED_KEY, world.token] });
  } finally {
    await operator?.stop();
    await world?.app.stop();
  }
});

it("waits on one probe per interval while the app is down, and resumes every connection when it is back", async () => {
  world.app.state.injectFault({ kind: "status", status: 503, times: 1_000_000 });
  await putSecret(namespace, "cred", { "api-key": ROTATED_KEY });

  // Each connection tries to push the rotated key, until the breaker opens; then they wait on it.
  const waiting = await waitFor(
    async () => {
      const c = await getConnection(namespace, names[0] as string);
      const ready = c?.status?.conditions?.find((x) => x.type === "Ready");
      return ready?.reason === "AppUnreachable" && ready.message?.includes(`Organization ${namespace}/acme`)
        ? ready
        : undefined;
    },
    { timeoutMs: 60_000, description: "a connection waiting on the Organization's breaker" },
  );
  expect(waiting.status).toBe("False");

  // Once the breaker is open (a probe came), only probes reach the app, one per interval.
  await waitFor(() => world.app.state.requests.some((r) => r.path === WHOAMI && r.status === 503), {
    description: "a probe of the app",
  });
  world.app.state.clearRequests();
  const probes = await waitFor(
    () => {
      const seen = world.app.state.requests.filter((r) => r.path === WHOAMI);
      return seen.length >= 4 ? seen : undefined;
    },
    { timeoutMs: 30_000, description: "four more probes" },
  );
  const others = world.app.state.requests.filter((r) => r.path !== WHOAMI && r.at <= (probes[3]?.at ?? 0));
  expect(others).toEqual([]);
  for (let i = 1; i < probes.length; i++) {
    expect((probes[i]?.at ?? 0) - (probes[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(PROBE_INTERVAL_MS * 0.9);
  }

  // The app is back: every connection resumes (woken by the breaker, not its own backoff) with the rotated key.
  const backAt = Date.now();
  world.app.state.clearFaults();
  await waitFor(
    async () => {
      for (const name of names) {
        const c = await getConnection(namespace, name);
        const ready = c?.status?.conditions?.find((x) => x.type === "Ready");
        const id = c?.status?.appConnectionId;
        if (ready?.status !== "True" || id === undefined) return undefined;
        if (world.app.state.getConnection(id)?.secrets.api_key !== ROTATED_KEY) return undefined;
      }
      return true;
    },
    {
      timeoutMs: RESUME_DEADLINE_MS,
      intervalMs: 100,
      description: "every connection Ready with the rotated key",
    },
  );
  console.info(
    `all ${CONNECTIONS} connections Ready with the rotated key ${Date.now() - backAt} ms after the app returned`,
  );
});
