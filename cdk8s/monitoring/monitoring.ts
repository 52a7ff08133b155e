// Monitoring for the Prometheus operator and Grafana: a ServiceMonitor on the metrics Service, the
// PrometheusRule with the alerts, and the dashboard in a ConfigMap that Grafana's sidecar picks up. Each
// behind its own toggle, since the first two need the Prometheus operator's CRDs.
import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { INSTALL } from "../names.ts";
import { OPERATOR_LABELS } from "../operator-deployment.ts";
import { grafanaDashboard } from "./dashboard.ts";
import { prometheusRuleSpec } from "./rules.ts";

/** Props of {@link Monitoring}. */
export interface MonitoringProps {
  /**
   * A ServiceMonitor (monitoring.coreos.com/v1) that scrapes the operator's metrics Service.
   * @default false
   */
  readonly serviceMonitor?: boolean;
  /**
   * A PrometheusRule (monitoring.coreos.com/v1) with the alerts of cdk8s/monitoring/rules.ts.
   * @default false
   */
  readonly prometheusRule?: boolean;
  /**
   * A ConfigMap holding the Grafana dashboard, labelled for Grafana's dashboard sidecar.
   * @default false
   */
  readonly grafanaDashboard?: boolean;
  /**
   * Labels added to the ServiceMonitor and PrometheusRule, e.g. the `release` label a Prometheus selects on.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * How often Prometheus scrapes the operator.
   * @default "30s"
   */
  readonly scrapeInterval?: string;
}

/** The label Grafana's dashboard sidecar (kube-prometheus-stack, grafana chart) looks for. */
export const GRAFANA_DASHBOARD_LABEL = "grafana_dashboard";

/** ServiceMonitor, PrometheusRule and the dashboard ConfigMap, as toggled. */
export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, props: MonitoringProps = {}) {
    super(scope, id);
    const labels = { ...OPERATOR_LABELS, ...(props.labels ?? {}) };
    if (props.serviceMonitor) {
      new ApiObject(this, "service-monitor", {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: INSTALL.serviceAccount, labels },
        spec: {
          selector: { matchLabels: OPERATOR_LABELS },
          endpoints: [{ port: "metrics", path: "/metrics", interval: props.scrapeInterval ?? "30s" }],
        },
      });
    }
    if (props.prometheusRule) {
      new ApiObject(this, "prometheus-rule", {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: INSTALL.serviceAccount, labels },
        spec: prometheusRuleSpec(),
      });
    }
    if (props.grafanaDashboard) {
      new ApiObject(this, "grafana-dashboard", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: `${INSTALL.serviceAccount}-dashboard`,
          labels: { ...OPERATOR_LABELS, [GRAFANA_DASHBOARD_LABEL]: "1" },
        },
        data: { "modelkeys.json": `${JSON.stringify(grafanaDashboard(), null, 2)}\n` },
      });
    }
  }
}
