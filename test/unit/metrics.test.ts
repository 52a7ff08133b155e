import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer } from "../../operator/health.ts";
import { createMetrics } from "../../operator/metrics.ts";

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The value of one sample line `name{labels} value` in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (.+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries(
      [...(match[3] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (
      Object.entries(labels).every(([k, v]) => got[k] === v) &&
      Object.keys(got).length === Object.keys(labels).length
    )
      return Number(match[4]);
  }
  return undefined;
}

describe("metrics", () => {
  it("exports the operator's metrics with their labels", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.reconcileTotal.inc({ result: "success" });
    m.reconcileTotal.inc({ result: "success" });
    m.reconcileTotal.inc({ result: "error" });
    m.reconcileDuration.observe(0.2);
    m.queueDepth.set(3);
    m.appRequestsTotal.inc({ method: "PATCH", route: "/api/model-provider-connections/{id}", code: "200" });
    m.appRequestDuration.observe({ method: "PATCH", route: "/api/model-provider-connections/{id}" }, 0.05);
    m.providerRequestsTotal.inc({ provider: "OpenAI", outcome: "ok" });
    m.leader.set(1);
    const text = await m.registry.metrics();
    expect(sample(text, "modelkeys_reconcile_total", { result: "success" })).toBe(2);
    expect(sample(text, "modelkeys_reconcile_total", { result: "error" })).toBe(1);
    expect(sample(text, "modelkeys_reconcile_duration_seconds_count")).toBe(1);
    expect(sample(text, "modelkeys_queue_depth")).toBe(3);
    expect(
      sample(text, "modelkeys_app_requests_total", {
        method: "PATCH",
        route: "/api/model-provider-connections/{id}",
        code: "200",
      }),
    ).toBe(1);
    expect(
      sample(text, "modelkeys_app_request_duration_seconds_count", {
        method: "PATCH",
        route: "/api/model-provider-connections/{id}",
      }),
    ).toBe(1);
    expect(sample(text, "modelkeys_provider_requests_total", { provider: "OpenAI", outcome: "ok" })).toBe(1);
    expect(sample(text, "modelkeys_leader")).toBe(1);
  });

  it("counts connections by provider and Ready at scrape time, from the source supplied later", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let connections = [
      { provider: "OpenAI", ready: "True" as const },
      { provider: "OpenAI", ready: "True" as const },
      { provider: "Gemini", ready: "False" as const },
    ];
    expect(
      sample(await m.registry.metrics(), "modelkeys_connections", { provider: "OpenAI", ready: "True" }),
    ).toBe(undefined);
    m.setConnectionsSource(() => connections);
    let text = await m.registry.metrics();
    expect(sample(text, "modelkeys_connections", { provider: "OpenAI", ready: "True" })).toBe(2);
    expect(sample(text, "modelkeys_connections", { provider: "Gemini", ready: "False" })).toBe(1);
    connections = [{ provider: "Gemini", ready: "True" }];
    text = await m.registry.metrics();
    // A series that no longer has members disappears rather than sticking at its old value.
    expect(sample(text, "modelkeys_connections", { provider: "OpenAI", ready: "True" })).toBe(undefined);
    expect(sample(text, "modelkeys_connections", { provider: "Gemini", ready: "True" })).toBe(1);
  });

  it("keeps two operators' registries apart (no global registry)", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.reconcileTotal.inc({ result: "success" });
    expect(sample(await a.registry.metrics(), "modelkeys_reconcile_total", { result: "success" })).toBe(1);
    expect(sample(await b.registry.metrics(), "modelkeys_reconcile_total", { result: "success" })).toBe(
      undefined,
    );
    expect(await a.registry.metrics()).toContain("process_cpu_user_seconds_total");
  });

  it("is served on /metrics in the Prometheus text format", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.reconcileTotal.inc({ result: "success" });
    const server = await startHealthServer({
      config: { bindAddress: "127.0.0.1", healthPort: 0, metricsPort: 0 },
      metrics: m,
    });
    servers.push(server);
    const res = await fetch(`${server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(sample(await res.text(), "modelkeys_reconcile_total", { result: "success" })).toBe(1);
    // Health endpoints live on the other port.
    expect((await fetch(`${server.metricsUrl}/healthz`)).status).toBe(404);
  });
});
