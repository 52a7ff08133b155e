// The alerts modelkeys ships, as a PrometheusRule spec: each names a metric the operator exports
// (test/unit/monitoring-rules.test.ts parses them with Prometheus's own parser and checks every name).

/** One alerting rule (the PrometheusRule / Prometheus rules-file shape). */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: "critical" | "warning" | "info" };
  annotations: { summary: string; description: string };
}

/** A rules group. */
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** The alert groups. `{{ $labels.x }}` is Prometheus's template syntax, filled in when an alert fires. */
export const ALERT_GROUPS: RuleGroup[] = [
  {
    name: "modelkeys.connections",
    rules: [
      {
        alert: "ModelkeysConnectionNotReady",
        expr: "modelkeys_connection_ready == 0",
        for: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "ProviderConnection {{ $labels.namespace }}/{{ $labels.name }} is not Ready",
          description:
            "{{ $labels.provider }} connection {{ $labels.namespace }}/{{ $labels.name }} has not been Ready for 15 minutes. `kubectl modelkeys status {{ $labels.name }} -n {{ $labels.namespace }}` says why.",
        },
      },
      {
        alert: "ModelkeysCredentialsInvalid",
        expr: 'modelkeys_connection_info{reason="InvalidCredentials"} == 1',
        for: "5m",
        labels: { severity: "critical" },
        annotations: {
          summary: "The provider rejects the key of {{ $labels.namespace }}/{{ $labels.name }}",
          description:
            "{{ $labels.provider }} rejected the credential of ProviderConnection {{ $labels.namespace }}/{{ $labels.name }}: the app's users cannot reach its models. Put a valid key in its Secret.",
        },
      },
      {
        alert: "ModelkeysKeyRotationDue",
        expr: "modelkeys_connection_key_rotation_due == 1",
        labels: { severity: "info" },
        annotations: {
          summary: "The key of {{ $labels.namespace }}/{{ $labels.name }} is past its max age",
          description:
            "ProviderConnection {{ $labels.namespace }}/{{ $labels.name }} has KeyRotationDue=True: its key is older than its maxKeyAge. Rotate it.",
        },
      },
      {
        alert: "ModelkeysProviderChecksFailing",
        expr: 'sum by (provider) (rate(modelkeys_provider_requests_total{outcome=~"Unavailable|RateLimited|NetworkRestricted"}[15m])) / sum by (provider) (rate(modelkeys_provider_requests_total[15m])) > 0.5',
        for: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "Most {{ $labels.provider }} model checks fail",
          description:
            "More than half of the model checks against {{ $labels.provider }} were unavailable, rate-limited or refused by the network for 15 minutes; the last known models stay in status meanwhile.",
        },
      },
    ],
  },
  {
    name: "modelkeys.operator",
    rules: [
      {
        alert: "ModelkeysApiServerThrottling",
        expr: "rate(modelkeys_kube_throttled_total[5m]) > 0",
        for: "15m",
        labels: { severity: "warning" },
        annotations: {
          summary: "The Kubernetes API server keeps throttling modelkeys ({{ $labels.instance }})",
          description:
            "The API server has answered the operator 429 for 15 minutes. The operator sends fewer requests at once meanwhile (modelkeys_kube_in_flight_limit), so changes take longer to reach the app; look at the API server's load or its priority and fairness settings.",
        },
      },
    ],
  },
  {
    name: "modelkeys.organizations",
    rules: [
      {
        alert: "ModelkeysAppUnreachable",
        expr: 'modelkeys_organization_info{reason="AppUnreachable"} == 1',
        for: "5m",
        labels: { severity: "critical" },
        annotations: {
          summary: "Label Studio is unreachable for Organization {{ $labels.namespace }}/{{ $labels.name }}",
          description:
            "The operator has not reached the app of Organization {{ $labels.namespace }}/{{ $labels.name }} for 5 minutes: no connection of it can sync.",
        },
      },
      {
        alert: "ModelkeysUnmanagedRecords",
        expr: "modelkeys_organization_unmanaged_records > 0",
        for: "30m",
        labels: { severity: "info" },
        annotations: {
          summary: "Organization {{ $labels.namespace }}/{{ $labels.name }} has app records nobody manages",
          description:
            "{{ $value }} model-provider connection(s) in the app are managed by no ProviderConnection. `kubectl modelkeys audit -n {{ $labels.namespace }}` lists them.",
        },
      },
    ],
  },
];

/** The PrometheusRule spec (also a valid Prometheus rules file). */
export function prometheusRuleSpec(): { groups: RuleGroup[] } {
  return { groups: ALERT_GROUPS };
}
