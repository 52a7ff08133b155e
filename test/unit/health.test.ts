import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { type Check, informerLive, informerReady, startHealthServer } from "../../operator/health.ts";
import type { InformerStatus } from "../../operator/kube/informer.ts";
import { createMetrics } from "../../operator/metrics.ts";
import { FakeClock } from "../support/fake-clock.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(live?: Check | Record<string, Check>, ready?: Check | Record<string, Check>) {
  const server = await startHealthServer({
    config: { bindAddress: "127.0.0.1", healthPort: 0, metricsPort: 0 },
    metrics: createMetrics({ defaultMetrics: false }),
    live,
    ready,
  });
  servers.push(server);
  const get = async (path: string) => {
    const res = await fetch(`${server.healthUrl}${path}`);
    return { status: res.status, body: await res.text() };
  };
  return { server, get };
}

describe("health server", () => {
  it("answers ok when every check passes", async () => {
    const { get } = await serve(() => true, { informers: () => true, leader: () => ({ ok: true }) });
    expect(await get("/healthz")).toEqual({ status: 200, body: "ok\n" });
    expect(await get("/livez")).toEqual({ status: 200, body: "ok\n" });
    expect(await get("/readyz")).toEqual({ status: 200, body: "ok\n" });
    expect((await get("/readyz?verbose")).body).toBe("[+]informers ok\n[+]leader ok\nok\n");
  });

  it("answers 503 naming each failing check and why", async () => {
    const { get } = await serve(
      { informers: () => ({ ok: false, message: "failing for 400s" }) },
      {
        a: () => false,
        b: () => true,
        c: () => {
          throw new Error("boom");
        },
      },
    );
    expect(await get("/healthz")).toEqual({
      status: 503,
      body: "[-]informers failed: failing for 400s\nhealthz check failed\n",
    });
    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toContain("[-]a failed");
    expect(ready.body).toContain("[-]c failed: check threw: Error");
    expect(ready.body).not.toContain("[+]b");
  });

  it("turns not ready once shutting down", async () => {
    const { server, get } = await serve(undefined, () => true);
    expect((await get("/readyz")).status).toBe(200);
    server.markShuttingDown();
    expect(await get("/readyz")).toEqual({
      status: 503,
      body: "[-]shutdown failed: shutting down\nreadyz check failed\n",
    });
    expect((await get("/healthz")).status).toBe(200);
  });

  it("serves health and metrics on one port when both ports are equal", async () => {
    const probe = await serve();
    const port = probe.server.healthPort;
    await probe.server.close();
    servers.length = 0;
    const server = await startHealthServer({
      config: { bindAddress: "127.0.0.1", healthPort: port, metricsPort: port },
      metrics: createMetrics({ defaultMetrics: false }),
    });
    servers.push(server);
    expect(server.metricsUrl).toBe(server.healthUrl);
    expect((await fetch(`${server.healthUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.healthUrl}/metrics`)).status).toBe(200);
  });

  it("streams a large /metrics piece by piece, waiting for the socket, and leaves no listener behind", async () => {
    const pieces = 400;
    const piece = `${"x".repeat(16 * 1024 - 1)}\n`;
    const server = await startHealthServer({
      config: { bindAddress: "127.0.0.1", healthPort: 0, metricsPort: 0 },
      metrics: {
        registry: new Registry(),
        async *chunks() {
          for (let i = 0; i < pieces; i++) yield piece;
        },
      },
    });
    servers.push(server);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      const res = await fetch(`${server.metricsUrl}/metrics`);
      expect((await res.text()).length).toBe(pieces * piece.length);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it("rejects other paths and methods", async () => {
    const { server, get } = await serve();
    expect((await get("/")).status).toBe(404);
    expect((await fetch(`${server.healthUrl}/healthz`, { method: "POST" })).status).toBe(405);
  });
});

describe("informer checks", () => {
  const status = (s: Partial<InformerStatus>): { status(): InformerStatus } => ({
    status: () => ({
      started: true,
      synced: false,
      failingSinceMs: undefined,
      restarts: 0,
      bookmarks: 0,
      ...s,
    }),
  });

  it("a standby's informer that never started is ready; a started one once it has synced", () => {
    expect(informerReady(status({ started: false }))()).toMatchObject({ ok: true });
    expect(informerReady(status({ synced: false }))()).toMatchObject({
      ok: false,
      message: "not synced yet",
    });
    expect(informerReady(status({ synced: true }))()).toMatchObject({ ok: true });
  });

  it("an informer is not live only after failing longer than stuckAfterMs", async () => {
    const clock = new FakeClock();
    const since = clock.now();
    const check = informerLive(status({ synced: true, failingSinceMs: since }), {
      stuckAfterMs: 60_000,
      clock,
    });
    expect(check()).toMatchObject({ ok: true });
    await clock.advance(60_001);
    expect(check()).toMatchObject({ ok: false, message: "failing for 60s" });
    expect(informerLive(status({ synced: true }), { clock })()).toMatchObject({ ok: true });
  });
});
