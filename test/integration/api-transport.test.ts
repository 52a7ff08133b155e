// How the operator reaches the API server: a few kept-alive sockets for any number of calls, a bound on requests in
// flight, 429s repeated after their Retry-After (writes too), and Lease renewals that no throttling can starve.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "../../operator/kube/client.ts";
import { apiServerTransport, dedicatedConnections } from "../../operator/kube/transport.ts";
import { createLeaderElector } from "../../operator/leader.ts";
import { testCluster } from "../support/cluster.ts";
import { type FaultProxy, startFaultProxy } from "../support/kube-fault-proxy.ts";
import { waitFor } from "../support/wait.ts";

let namespace: string;
let proxy: FaultProxy;

beforeAll(async () => {
  namespace = await testCluster().createTestNamespace("transport");
  proxy = await startFaultProxy(testCluster().kubeConfig);
});

afterAll(async () => {
  await proxy?.close();
});

describe("the API server transport", () => {
  it("opens at most 10 sockets for 1,000 API calls", async () => {
    let sockets = 0;
    const kc = apiServerTransport(testCluster().kube, { qps: 0, burst: 1, onConnect: () => sockets++ });
    let calls = 0;
    // Four at a time, as the operator's default concurrency.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (calls < 1000) {
          calls++;
          await kc.request("GET", `/api/v1/namespaces/${namespace}`);
        }
      }),
    );
    expect(calls).toBeGreaterThanOrEqual(1000);
    expect(sockets).toBeGreaterThan(0);
    expect(sockets).toBeLessThanOrEqual(10);
  });

  it("keeps at most maxInFlight requests waiting for answers, and an open watch takes no place", async () => {
    const slow = await startFaultProxy(testCluster().kubeConfig);
    try {
      const path = `/api/v1/namespaces/${namespace}/configmaps`;
      slow.delay((url) => url.pathname === path && url.searchParams.get("watch") !== "true", 100);
      const forty = (kc: KubeClient) =>
        Promise.all(Array.from({ length: 40 }, () => kc.request("GET", path)));
      // The control: unbounded, the 40 calls do overlap at the server.
      await forty(apiServerTransport(slow.kube, { qps: 0, burst: 1 }));
      expect(slow.takePeakInFlight()).toBeGreaterThan(4);

      const kc = apiServerTransport(slow.kube, { qps: 0, burst: 1, maxInFlight: 4 });
      const stop = new AbortController();
      const watch = kc.watch(path, {}, () => undefined, { signal: stop.signal }).catch(() => undefined);
      try {
        await waitFor(() => slow.openWatches() === 1, { description: "the watch open" });
        const lists = await forty(kc);
        expect(lists).toHaveLength(40);
        // Exactly 4: the bound holds, and the watch held open through the same pool did not take a place.
        expect(slow.takePeakInFlight()).toBe(4);
      } finally {
        stop.abort();
        await watch;
      }
    } finally {
      await slow.close();
    }
  });

  it("repeats a throttled write after the server's Retry-After, and it lands once", async () => {
    let throttled = 0;
    const kc = apiServerTransport(proxy.kube, { qps: 0, burst: 1, onThrottled: () => throttled++ });
    const isCreate = (url: URL) => url.pathname === `/api/v1/namespaces/${namespace}/configmaps`;
    proxy.fail(isCreate, 429, 2, { "retry-after": "1" });
    const started = Date.now();
    await kc.request("POST", `/api/v1/namespaces/${namespace}/configmaps`, {
      body: { metadata: { name: "throttled" }, data: { a: "b" } },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(throttled).toBe(2);
    expect(
      proxy.requests.filter((r) => r.startsWith(`POST /api/v1/namespaces/${namespace}/configmaps`)),
    ).toHaveLength(3);
    const stored = await testCluster().core.readNamespacedConfigMap({ name: "throttled", namespace });
    expect(stored.data).toEqual({ a: "b" });
  });

  it("hands the last 429 back as an API error once its repeats are spent", async () => {
    const kc = apiServerTransport(proxy.kube, { qps: 0, burst: 1, maxThrottledRetries: 1 });
    proxy.fail((url) => url.pathname === `/api/v1/namespaces/${namespace}/configmaps/spent`, 429, 5, {
      "retry-after": "0",
    });
    await expect(kc.request("GET", `/api/v1/namespaces/${namespace}/configmaps/spent`)).rejects.toMatchObject(
      {
        code: 429,
      },
    );
  });

  it("keeps the Lease while every other request is throttled and the shared pool is saturated", async () => {
    const isLease = (url: URL) => url.pathname.includes("/leases");
    // The API server sheds everything but Lease traffic, as under a storm of list/watch requests.
    proxy.fail((url) => !isLease(url), 429, Number.POSITIVE_INFINITY, { "retry-after": "1" });
    const shared = apiServerTransport(proxy.kube, { qps: 2, burst: 1 });
    // A backlog in the shared pool's rate limiter that would hold a renewal far past its deadline.
    const backlog = Array.from({ length: 40 }, () =>
      shared.request("GET", `/api/v1/namespaces/${namespace}/secrets`).catch(() => undefined),
    );
    const elector = createLeaderElector({
      kc: dedicatedConnections(proxy.kube),
      namespace,
      name: "throttled-leader",
      identity: "me",
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 400,
    });
    let stopped = 0;
    let started = 0;
    const stop = new AbortController();
    const running = elector.run(stop.signal, {
      onStartedLeading: () => void started++,
      onStoppedLeading: () => void stopped++,
    });
    try {
      await waitFor(() => elector.isLeader(), { description: "leadership" });
      const renewTimes = new Set<string>();
      await waitFor(
        async () => {
          const lease = await testCluster().coordination.readNamespacedLease({
            name: "throttled-leader",
            namespace,
          });
          renewTimes.add(String(lease.spec?.renewTime));
          return renewTimes.size >= 15;
        },
        { timeoutMs: 30_000, intervalMs: 200, description: "15 renewals under throttling" },
      );
      expect(elector.isLeader()).toBe(true);
      expect([started, stopped]).toEqual([1, 0]);
    } finally {
      stop.abort();
      await running;
      proxy.fail(() => false, 429, 0);
      await proxy.close();
      proxy = await startFaultProxy(testCluster().kubeConfig);
      await Promise.all(backlog);
    }
  }, 60_000);
});
