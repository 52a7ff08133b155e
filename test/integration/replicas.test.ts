// Two operator processes (operator/main.ts, as the image runs it) on one Lease: exactly one reconciles; SIGTERM
// hands the Lease over at once and the other finishes the work; SIGKILL hands it over when the Lease expires.
import { randomBytes } from "node:crypto";
import { Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALL } from "../../cdk8s/names.ts";
import type { ProviderConnection } from "../../crds/index.ts";
import { type StandIn, startOpenAIStandIn } from "../../local/providers/index.ts";
import type { OpenAIBehaviour } from "../../local/providers/openai.ts";
import { TEST_NAMESPACE_LABEL, testCluster } from "../support/cluster.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator-process.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  putSecret,
  startAppWithOwner,
  waitForCondition,
} from "../support/world.ts";

const LEASE_NAMESPACE = INSTALL.namespace;
const LEASE_DURATION_MS = 4_000;
const RETRY_PERIOD_MS = 1_000;
/** A standby's retry sleeps up to 2.2 retry periods (leader.ts's jitter). */
const MAX_RETRY_GAP_MS = 2.2 * RETRY_PERIOD_MS;
const TIMING_FLAGS = ["--lease-duration=4s", "--renew-deadline=3s", "--retry-period=1s"];
const API_KEY = `canary-replicas-key-${randomBytes(6).toString("hex")}`;
const MODELS = ["model-a", "model-b", "model-c", "model-d"];

let standIn: StandIn<OpenAIBehaviour>;
const processes: OperatorProcess[] = [];
const apps: AppWithOwner[] = [];
const watches: AbortController[] = [];
const leaseNames: string[] = [];
/** The Role (and RoleBinding) granting the operator identity this file's Lease names. */
const GRANT = `modelkeys-test-replicas-${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  await testCluster().installOperatorRbac();
  // The Custom endpoint: an OpenAI-format server on loopback that knows our models and key (real model checks).
  standIn = await startOpenAIStandIn({ host: "127.0.0.1" }, { keys: [API_KEY], models: MODELS });
});

afterAll(async () => {
  // Whatever failed above: no operator process outlives the file.
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  for (const w of watches) w.abort();
  await Promise.all(apps.map((a) => a.app.stop()));
  await standIn?.stop();
  const { rbac } = testCluster();
  await rbac.deleteNamespacedRoleBinding({ name: GRANT, namespace: LEASE_NAMESPACE }).catch(() => undefined);
  await rbac.deleteNamespacedRole({ name: GRANT, namespace: LEASE_NAMESPACE }).catch(() => undefined);
  for (const name of leaseNames) {
    await testCluster()
      .coordination.deleteNamespacedLease({ name, namespace: LEASE_NAMESPACE })
      .catch(() => undefined);
  }
});

/**
 * The install lets the operator get and update only the Lease `modelkeys-operator`; rbac.test.ts elects on that
 * one too. So that files running at once do not share a Lease, this file gives the operator's identity the same
 * verbs on its own Lease names, nothing more (create is already granted in the namespace).
 */
async function grantLeases(names: string[]): Promise<void> {
  const { rbac } = testCluster();
  const role = {
    metadata: { name: GRANT, namespace: LEASE_NAMESPACE },
    rules: [
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: names,
        verbs: ["get", "update"],
      },
    ],
  };
  try {
    await rbac.createNamespacedRole({ namespace: LEASE_NAMESPACE, body: role });
  } catch {
    await rbac.replaceNamespacedRole({ name: GRANT, namespace: LEASE_NAMESPACE, body: role });
  }
  await rbac
    .createNamespacedRoleBinding({
      namespace: LEASE_NAMESPACE,
      body: {
        // Labelled as a test's own grant, so rbac.test.ts (which checks the install's bindings) leaves it out.
        metadata: { name: GRANT, namespace: LEASE_NAMESPACE, labels: { [TEST_NAMESPACE_LABEL]: "true" } },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: GRANT },
        subjects: [{ kind: "ServiceAccount", name: INSTALL.serviceAccount, namespace: LEASE_NAMESPACE }],
      },
    })
    .catch((error: { code?: number }) => {
      if (error.code !== 409) throw error;
    });
}

/** One version of the Lease as a watch delivered it. */
interface LeaseVersion {
  holder: string;
  acquireTime: number;
  renewTime: number;
  transitions: number;
}

/** Every version of Lease `name`, in order, from before anyone holds it. */
async function watchLease(name: string): Promise<LeaseVersion[]> {
  const versions: LeaseVersion[] = [];
  const watch = new Watch(testCluster().kubeConfig);
  const request = await watch.watch(
    `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`,
    { fieldSelector: `metadata.name=${name}` },
    (type, lease: { spec?: Record<string, unknown> }) => {
      if (type !== "ADDED" && type !== "MODIFIED") return;
      const spec = lease.spec ?? {};
      versions.push({
        holder: String(spec.holderIdentity ?? ""),
        acquireTime: Date.parse(String(spec.acquireTime)),
        renewTime: Date.parse(String(spec.renewTime)),
        transitions: Number(spec.leaseTransitions ?? 0),
      });
    },
    () => undefined,
  );
  watches.push(request);
  return versions;
}

/** The holders in order, repeats collapsed: e.g. [a, "", b]. */
const holders = (versions: LeaseVersion[]) =>
  versions.map((v) => v.holder).filter((h, i, all) => i === 0 || all[i - 1] !== h);

interface Pair {
  namespace: string;
  lease: string;
  versions: LeaseVersion[];
  world: AppWithOwner;
  leader: OperatorProcess;
  standby: OperatorProcess;
}

/** A namespace with an app and an Organization, a Lease, and two replicas of which one has become leader. */
async function startPair(prefix: string): Promise<Pair> {
  const cluster = testCluster();
  const namespace = await cluster.createTestNamespace(prefix);
  const lease = `${prefix}-${randomBytes(4).toString("hex")}`;
  leaseNames.push(lease);
  await grantLeases(leaseNames);
  const world = await startAppWithOwner();
  apps.push(world);
  await createOrganization(namespace, "acme", world.app.url, world.token);
  await putSecret(namespace, "llm", { "api-key": API_KEY });
  const versions = await watchLease(lease);
  standIn.clearRequests();

  const flags = [
    `--kubeconfig=${cluster.paths.operatorKubeconfigPath}`,
    `--namespace=${namespace}`,
    "--health-port=0",
    "--metrics-port=0",
    `--lease-name=${lease}`,
    `--lease-namespace=${LEASE_NAMESPACE}`,
    ...TIMING_FLAGS,
  ];
  const replicas = ["a", "b"].map((suffix) =>
    startOperatorProcess({ identity: `${prefix}-replica-${suffix}`, flags }),
  );
  processes.push(...replicas);
  const leader = await waitFor(
    () => {
      for (const r of replicas) {
        if (!r.running()) throw new Error(`${r.identity} exited early: ${r.otherOutput()}`);
      }
      return replicas.find((r) => r.events("leader.acquired").length > 0);
    },
    { timeoutMs: 60_000, intervalMs: 100, description: "one replica to acquire the Lease" },
  );
  const standby = replicas.find((r) => r !== leader) as OperatorProcess;
  // The standby is up too (serving metrics, trying the Lease) before anything is asked of the pair.
  await waitFor(() => standby.metricsUrl(), {
    timeoutMs: 60_000,
    description: `${standby.identity} listening`,
  });
  return { namespace, lease, versions, world, leader, standby };
}

/** A Custom connection (per model, so several coexist in one organization) served by the stand-in. */
function createCustom(namespace: string, name: string, model: string): Promise<void> {
  return createConnection(namespace, name, {
    organizationRef: { name: "acme" },
    provider: "Custom",
    custom: { name: model, endpoint: `${standIn.url}/v1`, apiKeySecretRef: { name: "llm", key: "api-key" } },
  });
}

const ready = (namespace: string, name: string): Promise<ProviderConnection> =>
  waitForCondition(namespace, name, "Ready", "True", undefined, 60_000);

/** The connections a replica wrote to the app (its `connection.create` log lines). */
const createdBy = (p: OperatorProcess) =>
  p
    .events("connection.create")
    .map((e) => String(e.connection).split("/")[1])
    .sort();

/** Which replicas (`reportingInstance`) wrote the Events about `name`. */
async function eventReporters(namespace: string, name: string): Promise<string[]> {
  const events = await testCluster().core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return [...new Set(events.items.map((e) => e.reportingInstance ?? ""))];
}

/** A replica's logs and other output must not carry the key or the app token. */
function expectNoSecrets(p: OperatorProcess, world: AppWithOwner): void {
  const text = JSON.stringify(p.logs()) + p.otherOutput();
  for (const secret of [API_KEY, world.token]) expect(text.includes(secret)).toBe(false);
}

async function expectOnlyLeaderActs(pair: Pair, names: string[]): Promise<void> {
  const { leader, standby, world, namespace } = pair;
  // The standby never led, never started a controller, never touched a connection.
  expect(standby.events("leader.acquired")).toEqual([]);
  expect(standby.events("controller.started")).toEqual([]);
  expect(standby.logs().filter((e) => String(e.event).startsWith("connection."))).toEqual([]);
  // The log line follows the status write through a pipe: wait for it rather than race it.
  await waitFor(() => createdBy(leader).length >= names.length, {
    description: "the leader's connection.create log lines",
    timeoutMs: 10_000,
  });
  expect(createdBy(leader)).toEqual([...names].sort());
  // The leader says when it has worked off the backlog its caches brought (once); the standby has none.
  await waitFor(() => leader.events("controller.caught_up").length > 0, {
    description: "the leader's controller.caught_up",
    timeoutMs: 10_000,
  });
  expect(leader.events("controller.caught_up")).toHaveLength(1);
  expect(leader.events("controller.caught_up")[0]).toMatchObject({ ms: expect.any(Number) });
  expect(standby.events("controller.caught_up")).toEqual([]);
  // Ready came from real model checks against the stand-in, not from a stub.
  expect(standIn.count("/v1/models")).toBeGreaterThan(0);
  // Each connection got one record in the app: nobody created a second.
  expect(world.app.state.listConnections()).toHaveLength(names.length);
  for (const name of names) expect(await eventReporters(namespace, name)).toEqual([leader.identity]);

  // Metrics of each process: every app request the app saw came from the leader; the standby made none.
  const standbyMetrics = await standby.metricTotals();
  expect(standbyMetrics.get("modelkeys_leader")).toBe(0);
  expect(standbyMetrics.get("modelkeys_app_requests_total") ?? 0).toBe(0);
  expect(standbyMetrics.get("modelkeys_provider_requests_total") ?? 0).toBe(0);
  expect(standbyMetrics.get("modelkeys_reconcile_total") ?? 0).toBe(0);
  await waitFor(
    async () => {
      const m = await leader.metricTotals();
      return (
        m.get("modelkeys_leader") === 1 &&
        m.get("modelkeys_app_requests_total") === world.app.state.requests.length
      );
    },
    { timeoutMs: 10_000, description: "the leader's app request count to equal what the app recorded" },
  );

  const lease = await testCluster().coordination.readNamespacedLease({
    name: pair.lease,
    namespace: LEASE_NAMESPACE,
  });
  expect(lease.spec?.holderIdentity).toBe(leader.identity);
  expect(holders(pair.versions)).toEqual([leader.identity]);
}

describe("two operator replicas", () => {
  it("exactly one reconciles; SIGTERM releases the Lease, the other takes over at once and finishes the work", async () => {
    const pair = await startPair("replicas-term");
    const { namespace, leader, standby, world } = pair;
    const before = ["llm-a", "llm-b", "llm-c"];
    for (const [i, name] of before.entries()) await createCustom(namespace, name, MODELS[i] as string);
    for (const name of before) await ready(namespace, name);
    await expectOnlyLeaderActs(pair, before);

    const signalled = Date.now();
    leader.child.kill("SIGTERM");
    const acquired = await waitFor(() => standby.events("leader.acquired")[0], {
      timeoutMs: 30_000,
      intervalMs: 50,
      description: `${standby.identity} to acquire the Lease`,
    });
    const handoverMs = acquired.time - signalled;
    console.info(
      `[replicas] SIGTERM → standby leads: ${handoverMs} ms (lease duration ${LEASE_DURATION_MS} ms)`,
    );
    expect(handoverMs).toBeLessThan(LEASE_DURATION_MS);

    // The stopped replica drained, released the Lease (an empty holder between the two) and exited with 0.
    expect(await leader.exited).toEqual({ code: 0, signal: null });
    expect(leader.events("leader.released")).toHaveLength(1);
    expect(leader.events("operator.stopped").map((e) => e.code)).toEqual([0]);
    await waitFor(() => holders(pair.versions).at(-1) === standby.identity, {
      description: "the watch to see the new holder",
    });
    expect(holders(pair.versions)).toEqual([leader.identity, "", standby.identity]);
    const taken = pair.versions.find((v) => v.holder === standby.identity) as LeaseVersion;
    expect(taken.transitions).toBe(1);

    // Work created after the handover is done by the new leader; the old connections stay as they are.
    world.app.state.clearRequests();
    await createCustom(namespace, "llm-d", MODELS[3] as string);
    const after = await ready(namespace, "llm-d");
    await waitFor(() => createdBy(standby).length > 0, {
      description: "the new leader's log line",
      timeoutMs: 10_000,
    });
    expect(createdBy(standby)).toEqual(["llm-d"]);
    expect(await eventReporters(namespace, "llm-d")).toEqual([standby.identity]);
    const ids = new Set([after.status?.appConnectionId]);
    for (const name of before) ids.add((await ready(namespace, name)).status?.appConnectionId);
    expect(ids.size).toBe(4);
    expect(world.app.state.listConnections()).toHaveLength(4);
    // The new leader adopted the synced records by id: it created nothing for them.
    expect(world.app.state.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expectNoSecrets(leader, world);
    expectNoSecrets(standby, world);
  }, 180_000);

  it("after SIGKILL of the leader, the other takes over once the Lease has expired and finishes the work", async () => {
    const pair = await startPair("replicas-kill");
    const { namespace, leader, standby, world } = pair;
    await createCustom(namespace, "llm-a", MODELS[0] as string);
    await ready(namespace, "llm-a");
    await expectOnlyLeaderActs(pair, ["llm-a"]);

    const killed = Date.now();
    leader.child.kill("SIGKILL");
    expect(await leader.exited).toEqual({ code: null, signal: "SIGKILL" });
    const last = await testCluster().coordination.readNamespacedLease({
      name: pair.lease,
      namespace: LEASE_NAMESPACE,
    });
    // Nobody released it: the dead leader still holds it until it expires.
    expect(last.spec?.holderIdentity).toBe(leader.identity);
    const lastRenewal = Date.parse(String(last.spec?.renewTime));

    const acquired = await waitFor(() => standby.events("leader.acquired")[0], {
      timeoutMs: LEASE_DURATION_MS + 2 * MAX_RETRY_GAP_MS + 10_000,
      intervalMs: 50,
      description: `${standby.identity} to acquire the expired Lease`,
    });
    console.info(
      `[replicas] SIGKILL → standby leads: ${acquired.time - killed} ms; last renewal → takeover: ${acquired.time - lastRenewal} ms`,
    );
    await waitFor(() => holders(pair.versions).at(-1) === standby.identity, {
      description: "the watch to see the new holder",
    });
    // Handed over without a release, and not before the Lease had expired.
    expect(holders(pair.versions)).toEqual([leader.identity, standby.identity]);
    const taken = pair.versions.find((v) => v.holder === standby.identity) as LeaseVersion;
    const lastOfOld = pair.versions.filter((v) => v.holder === leader.identity).at(-1) as LeaseVersion;
    expect(lastOfOld.renewTime).toBe(lastRenewal);
    expect(taken.acquireTime - lastRenewal).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
    // At the latest: seen renewed one retry gap after the renewal, expired a lease later, taken at the next try.
    expect(acquired.time - lastRenewal).toBeLessThan(LEASE_DURATION_MS + 2 * MAX_RETRY_GAP_MS + 3_000);

    await createCustom(namespace, "llm-b", MODELS[1] as string);
    await ready(namespace, "llm-b");
    await waitFor(() => createdBy(standby).length > 0, {
      description: "the new leader's log line",
      timeoutMs: 10_000,
    });
    expect(createdBy(standby)).toEqual(["llm-b"]);
    expect(await eventReporters(namespace, "llm-b")).toEqual([standby.identity]);
    expect(world.app.state.listConnections()).toHaveLength(2);
    expectNoSecrets(leader, world);
    expectNoSecrets(standby, world);
  }, 180_000);
});
