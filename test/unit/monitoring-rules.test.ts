// The shipped monitoring: the PrometheusRule parses with Prometheus's own parser (model/rulefmt and promql, built
// from its Go module by local/tools), and every metric the rules and the Grafana dashboard query is one the
// operator's /metrics really exports.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import {
  DASHBOARD_JSON,
  dashboardJson,
  installManifest,
  MONITORING_YAML,
  monitoringManifest,
} from "../../cdk8s/install.ts";
import { runTool, runToolJson } from "../../local/tools/index.ts";
import { type HealthServer, startHealthServer } from "../../operator/health.ts";
import { createMetrics } from "../../operator/metrics.ts";
import { connection, NOW, organization } from "./fixtures/connection.ts";

interface PromRules {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; metrics: string[] }[] }[];
  metrics: string[];
}

/** Runs promrules on a rules file (or a PrometheusRule) and returns its report; a parse error fails here. */
async function promrules(yaml: string): Promise<PromRules> {
  const result = await runTool("promrules", [], { input: yaml });
  if (result.code !== 0) throw new Error(`promrules refused the rules: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout) as PromRules;
}

const shipped = parseAllDocuments(readFileSync(MONITORING_YAML, "utf8")).map(
  (d) => d.toJS() as { kind: string; spec?: unknown; data?: Record<string, string> },
);
const prometheusRule = shipped.find((o) => o.kind === "PrometheusRule");
const dashboard = JSON.parse(readFileSync(DASHBOARD_JSON, "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** The metric names /metrics exports (from its TYPE lines; a histogram exports _bucket, _sum and _count). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
    else if (type === "summary") for (const suffix of ["", "_sum", "_count"]) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

let server: HealthServer;
let exported: Set<string>;
let metricsText: string;

beforeAll(async () => {
  const metrics = createMetrics();
  const org = organization();
  const conn = connection({
    status: {
      credentialRotatedTime: "2026-08-01T00:00:00Z",
      models: [{ name: "gpt-4o", available: true }],
      conditions: [
        { type: "Ready", status: "True", reason: "Synced", lastTransitionTime: NOW.toISOString() },
        {
          type: "KeyRotationDue",
          status: "True",
          reason: "KeyPastMaxAge",
          lastTransitionTime: NOW.toISOString(),
        },
      ],
    },
  });
  metrics.setObjectsSource({
    connections: () => [conn],
    organizations: () => [
      {
        ...org,
        status: {
          app: { reportedTime: NOW.toISOString(), managed: 1, unmanaged: 2, changed: 0, offLimits: 0 },
        },
      },
    ],
  });
  server = await startHealthServer({
    config: { bindAddress: "127.0.0.1", healthPort: 0, metricsPort: 0 },
    metrics,
  });
  metricsText = await (await fetch(`${server.metricsUrl}/metrics`)).text();
  exported = exportedNames(metricsText);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("the committed monitoring files", () => {
  it("are what `npm run synth` generates", () => {
    expect(readFileSync(MONITORING_YAML, "utf8")).toBe(monitoringManifest());
    expect(readFileSync(DASHBOARD_JSON, "utf8")).toBe(dashboardJson());
  });

  it("ship a ServiceMonitor, a PrometheusRule and the dashboard ConfigMap; the install has none by default", () => {
    expect(shipped.map((o) => o.kind)).toEqual(["ServiceMonitor", "PrometheusRule", "ConfigMap"]);
    const configMap = shipped.find((o) => o.kind === "ConfigMap");
    expect(JSON.parse(configMap?.data?.["modelkeys.json"] ?? "{}")).toEqual(dashboard);
    expect(installManifest()).not.toContain("monitoring.coreos.com");
  });

  it("go into the install behind toggles", () => {
    const kinds = (yaml: string) => parseAllDocuments(yaml).map((d) => (d.toJS() as { kind: string }).kind);
    const on = kinds(
      installManifest({ operator: { monitoring: { serviceMonitor: true, prometheusRule: true } } }),
    );
    expect(on).toContain("ServiceMonitor");
    expect(on).toContain("PrometheusRule");
    expect(kinds(installManifest({ operator: { monitoring: { grafanaDashboard: true } } }))).not.toContain(
      "ServiceMonitor",
    );
  });
});

describe("the PrometheusRule", () => {
  it("parses with Prometheus's rule parser and has the alerts the issue asks for", async () => {
    const report = await promrules(stringify(prometheusRule));
    const alerts = report.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.sort()).toEqual([
      "ModelkeysApiServerThrottling",
      "ModelkeysAppUnreachable",
      "ModelkeysConnectionNotReady",
      "ModelkeysCredentialsInvalid",
      "ModelkeysKeyRotationDue",
      "ModelkeysProviderChecksFailing",
      "ModelkeysUnmanagedRecords",
    ]);
    for (const rule of report.groups.flatMap((g) => g.rules)) expect(rule.metrics.length).toBeGreaterThan(0);
  }, 900_000);

  it("refuses a broken expression (the parser is really judging)", async () => {
    const result = await runTool("promrules", [], {
      input: stringify({ groups: [{ name: "x", rules: [{ alert: "X", expr: "sum(modelkeys_leader" }] }] }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("parse error");
  }, 900_000);

  it("queries only metrics that /metrics exports", async () => {
    const report = await promrules(stringify(prometheusRule));
    expect(report.metrics.length).toBeGreaterThan(0);
    expect(report.metrics.filter((name) => !exported.has(name))).toEqual([]);
  }, 900_000);
});

describe("the Grafana dashboard", () => {
  it("queries only metrics that /metrics exports (each query parsed by Prometheus's parser)", async () => {
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(5);
    const asRules = {
      groups: [
        { name: "dashboard", rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) },
      ],
    };
    const report = await promrules(stringify(asRules));
    expect(report.groups[0]?.rules.every((r) => r.metrics.length > 0)).toBe(true);
    expect(report.metrics.filter((name) => !exported.has(name))).toEqual([]);
  }, 900_000);

  it("has series for the per-object gauges it shows (labels namespace, name, provider only)", () => {
    expect(metricsText).toContain(
      'modelkeys_connection_key_rotation_due{namespace="ml-platform",name="openai",provider="OpenAI"} 1',
    );
    expect(metricsText).toContain(
      'modelkeys_organization_unmanaged_records{namespace="ml-platform",name="acme"} 2',
    );
  });
});

describe("what /metrics serves", () => {
  type Parsed = { families: Record<string, { type: string; samples: number }> };

  it("parses with Prometheus's text parser: every family declared once, one per-object sample per object", async () => {
    const parsed = await runToolJson<Parsed>("promtext", [], metricsText);
    for (const name of [
      "modelkeys_connection_ready",
      "modelkeys_connection_info",
      "modelkeys_connection_key_rotation_due",
      "modelkeys_organization_ready",
      "modelkeys_organization_unmanaged_records",
    ])
      expect(parsed.families[name], name).toEqual({ type: "GAUGE", samples: 1 });
  });

  it("a fleet of 2,000 connections gives each per-object family 2,000 samples that still parse", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const base = connection();
    const fleet = Array.from({ length: 2000 }, (_, i) => ({
      ...base,
      metadata: { ...base.metadata, name: `llm-${i}`, uid: `uid-${i}` },
    }));
    metrics.setObjectsSource({ connections: () => fleet, organizations: () => [] });
    const pieces: string[] = [];
    for await (const piece of metrics.chunks()) pieces.push(piece);
    // /metrics streams these: a scrape holds one small piece at a time, never a family's whole text (V8 keeps a
    // string over 128 KiB in its large-object space, which only a full collection frees).
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(32 * 1024);
    const parsed = await runToolJson<Parsed>("promtext", [], pieces.join(""));
    expect(parsed.families.modelkeys_connection_ready?.samples).toBe(2000);
    expect(parsed.families.modelkeys_connection_info?.samples).toBe(2000);
    // Before the first model check a connection has no model counts: no sample rather than a made-up one.
    expect(parsed.families.modelkeys_connection_models_available?.samples ?? 0).toBe(0);
  });

  it("refuses a family declared twice (the parser is really judging)", async () => {
    const twice = "# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n";
    const result = await runTool("promtext", [], { input: twice });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/second TYPE line/);
  });
});
