// Two replicas, one Lease: exactly one leads; a released Lease passes on at once, an abandoned one after expiry.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLeaderElector, type LeaderElector } from "../../operator/leader.ts";
import { testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

const LEASE_MS = 3_000;
const RENEW_MS = 2_000;
const RETRY_MS = 400;

interface Replica {
  identity: string;
  elector: LeaderElector;
  abort: AbortController;
  running: Promise<void>;
  /** Leadership periods as [start, end?] in Date.now() ms. */
  periods: [number, number | undefined][];
  leaderSignals: AbortSignal[];
  leading(): boolean;
}

let namespace: string;
const replicas: Replica[] = [];

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("leader");
});

afterEach(async () => {
  for (const r of replicas.splice(0)) {
    r.abort.abort();
    await r.running;
  }
});

function replica(identity: string, lease: string): Replica {
  const abort = new AbortController();
  const elector = createLeaderElector({
    kc: testCluster().kube,
    namespace,
    name: lease,
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
  });
  const r: Replica = {
    identity,
    elector,
    abort,
    running: Promise.resolve(),
    periods: [],
    leaderSignals: [],
    leading: () => r.periods.some(([, end]) => end === undefined),
  };
  r.running = elector.run(abort.signal, {
    onStartedLeading: (signal) => {
      // Two leaders at once would show here.
      expect(replicas.filter((o) => o !== r && o.leading()).map((o) => o.identity)).toEqual([]);
      r.periods.push([Date.now(), undefined]);
      r.leaderSignals.push(signal);
    },
    onStoppedLeading: () => {
      const open = r.periods.find(([, end]) => end === undefined);
      if (open) open[1] = Date.now();
    },
  });
  replicas.push(r);
  return r;
}

async function holder(lease: string): Promise<string | undefined> {
  const l = await testCluster().coordination.readNamespacedLease({ name: lease, namespace });
  return l.spec?.holderIdentity;
}

async function renewals(lease: string, count: number): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const l = await testCluster().coordination.readNamespacedLease({ name: lease, namespace });
      seen.add(String(l.spec?.renewTime));
      return seen.size >= count;
    },
    { timeoutMs: 20_000, intervalMs: 100, description: `${count} renewals of ${lease}` },
  );
}

describe("leader election on a Lease", () => {
  it("lets exactly one of two replicas lead, and the Lease names it", async () => {
    const a = replica("replica-a", "one-leads");
    const b = replica("replica-b", "one-leads");
    const leader = await waitFor(() => [a, b].find((r) => r.leading()), { description: "a leader" });
    // Watch the leader renew several times; the other must stand by throughout.
    await renewals("one-leads", 4);
    const standby = leader === a ? b : a;
    expect(leader.periods).toHaveLength(1);
    expect(standby.periods).toHaveLength(0);
    expect(await holder("one-leads")).toBe(leader.identity);
    expect(leader.elector.isLeader()).toBe(true);
    expect(standby.elector.isLeader()).toBe(false);
  });

  it("hands over within the lease duration when the leader releases", async () => {
    const a = replica("replica-a", "release");
    const leader = await waitFor(() => a.leading() && a, { description: "a leads" });
    const b = replica("replica-b", "release");
    await renewals("release", 2);
    expect(b.leading()).toBe(false);

    const released = Date.now();
    await leader.elector.release();
    // Release stops leading first: the signal is aborted and onStoppedLeading has run.
    expect(a.leaderSignals[0]?.aborted).toBe(true);
    expect(a.leading()).toBe(false);
    await waitFor(() => b.leading(), { timeoutMs: LEASE_MS, intervalMs: 50, description: "b takes over" });
    const tookOver = (b.periods[0]?.[0] ?? 0) - released;
    expect(tookOver).toBeLessThan(LEASE_MS);
    expect(await holder("release")).toBe("replica-b");
  });

  it("takes over only after expiry when the leader stops renewing without releasing", async () => {
    const a = replica("replica-a", "expiry");
    await waitFor(() => a.leading(), { description: "a leads" });
    const b = replica("replica-b", "expiry");
    await renewals("expiry", 2);

    const killed = Date.now();
    a.abort.abort(); // stops renewing; no release
    await a.running;
    expect(a.leaderSignals[0]?.aborted).toBe(true);
    expect(await holder("expiry")).toBe("replica-a");
    await waitFor(() => b.leading(), {
      timeoutMs: LEASE_MS + 4 * RETRY_MS + 2_000,
      intervalMs: 50,
      description: "b takes over after expiry",
    });
    const tookOver = (b.periods[0]?.[0] ?? 0) - killed;
    // It waited for the Lease to expire: at least its duration after the last renewal it saw.
    expect(tookOver).toBeGreaterThan(LEASE_MS - 2 * RETRY_MS);
    expect(await holder("expiry")).toBe("replica-b");
  });

  it("steps down when another holder shows in the Lease", async () => {
    const a = replica("replica-a", "usurped");
    await waitFor(() => a.leading(), { description: "a leads" });
    const { coordination } = testCluster();
    const lease = await coordination.readNamespacedLease({ name: "usurped", namespace });
    await coordination.replaceNamespacedLease({
      name: "usurped",
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "someone-else", leaseDurationSeconds: 60 } },
    });
    await waitFor(() => !a.leading(), {
      timeoutMs: RENEW_MS + 2_000,
      intervalMs: 50,
      description: "a steps down",
    });
    expect(a.leaderSignals[0]?.aborted).toBe(true);
    expect(await holder("usurped")).toBe("someone-else");
  });
});
