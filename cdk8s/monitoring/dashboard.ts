// The Grafana dashboard modelkeys ships, built here as data: every query names a metric the operator exports
// (test/unit/monitoring-rules.test.ts checks them with Prometheus's parser against a real /metrics).

/** One panel's query. */
export interface PanelQuery {
  expr: string;
  legendFormat?: string;
  format?: "table" | "time_series";
  instant?: boolean;
}

interface PanelSpec {
  title: string;
  type: "timeseries" | "table" | "stat";
  queries: PanelQuery[];
  unit?: string;
  description: string;
}

const PANELS: PanelSpec[] = [
  {
    title: "Connections Ready",
    type: "stat",
    description: "ProviderConnections Ready, of all.",
    queries: [
      { expr: "sum(modelkeys_connection_ready)", legendFormat: "Ready" },
      { expr: "count(modelkeys_connection_ready)", legendFormat: "All" },
    ],
  },
  {
    title: "Connections not Ready",
    type: "table",
    description: "Each connection that is not Ready, with its reason.",
    queries: [
      {
        expr: "modelkeys_connection_info * on (namespace, name) group_left () (modelkeys_connection_ready == 0)",
        format: "table",
        instant: true,
      },
    ],
  },
  {
    title: "Key age (days)",
    type: "table",
    description: "Days since each key was rotated (or first synced); keys past their max age first.",
    unit: "d",
    queries: [
      {
        expr: "sort_desc(modelkeys_connection_key_age_seconds / 86400)",
        format: "table",
        instant: true,
      },
      { expr: "modelkeys_connection_key_rotation_due == 1", format: "table", instant: true },
    ],
  },
  {
    title: "Models available / expected",
    type: "timeseries",
    description: "Models each key reaches, against what its users expect.",
    queries: [
      {
        expr: "sum by (namespace, name) (modelkeys_connection_models_available)",
        legendFormat: "{{namespace}}/{{name}} available",
      },
      {
        expr: "sum by (namespace, name) (modelkeys_connection_models_expected)",
        legendFormat: "{{namespace}}/{{name}} expected",
      },
    ],
  },
  {
    title: "App records nobody manages",
    type: "timeseries",
    description:
      "Per Organization, records in the app that no ProviderConnection manages, and records changed in the app.",
    queries: [
      { expr: "modelkeys_organization_unmanaged_records", legendFormat: "{{namespace}}/{{name}} unmanaged" },
      {
        expr: "modelkeys_organization_changed_records",
        legendFormat: "{{namespace}}/{{name}} changed in app",
      },
    ],
  },
  {
    title: "App requests by status",
    type: "timeseries",
    description: "Requests to the Label Studio API per second, by status code (or timeout / network).",
    unit: "reqps",
    queries: [{ expr: "sum by (code) (rate(modelkeys_app_requests_total[5m]))", legendFormat: "{{code}}" }],
  },
  {
    title: "App latency p95",
    type: "timeseries",
    description: "95th percentile of Label Studio API latency, by route.",
    unit: "s",
    queries: [
      {
        expr: "histogram_quantile(0.95, sum by (le, route) (rate(modelkeys_app_request_duration_seconds_bucket[5m])))",
        legendFormat: "{{route}}",
      },
    ],
  },
  {
    title: "Provider checks by outcome",
    type: "timeseries",
    description: "Model checks per second, by provider and outcome.",
    unit: "reqps",
    queries: [
      {
        expr: "sum by (provider, outcome) (rate(modelkeys_provider_requests_total[5m]))",
        legendFormat: "{{provider}} {{outcome}}",
      },
    ],
  },
  {
    title: "Reconciles",
    type: "timeseries",
    description: "Reconciles per second by result, p95 duration and the queue's depth.",
    queries: [
      { expr: "sum by (result) (rate(modelkeys_reconcile_total[5m]))", legendFormat: "{{result}}" },
      {
        expr: "histogram_quantile(0.95, sum by (le) (rate(modelkeys_reconcile_duration_seconds_bucket[5m])))",
        legendFormat: "p95 seconds",
      },
      { expr: "max(modelkeys_queue_depth)", legendFormat: "queue depth" },
      { expr: "max(modelkeys_leader)", legendFormat: "leader" },
    ],
  },
];

/** Every query of the dashboard (for the test). */
export function dashboardQueries(): PanelQuery[] {
  return PANELS.flatMap((p) => p.queries);
}

/** The dashboard as Grafana's JSON model, with a Prometheus data source variable. */
export function grafanaDashboard(): Record<string, unknown> {
  // Grafana's variable syntax, not a template literal: every panel uses the data source picked on the dashboard.
  const datasource = { type: "prometheus", uid: ["$", "{datasource}"].join("") };
  return {
    uid: "modelkeys",
    title: "modelkeys",
    description: "ProviderConnections, keys, app records and the operator's work.",
    tags: ["modelkeys", "label-studio"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: "now-6h", to: "now" },
    refresh: "1m",
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
        },
      ],
    },
    panels: PANELS.map((panel, index) => ({
      id: index + 1,
      title: panel.title,
      description: panel.description,
      type: panel.type,
      datasource,
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      ...(panel.unit ? { fieldConfig: { defaults: { unit: panel.unit }, overrides: [] } } : {}),
      targets: panel.queries.map((q, at) => ({
        refId: String.fromCharCode(65 + at),
        datasource,
        expr: q.expr,
        ...(q.legendFormat ? { legendFormat: q.legendFormat } : {}),
        ...(q.format ? { format: q.format } : {}),
        ...(q.instant ? { instant: true, range: false } : {}),
      })),
    })),
  };
}
