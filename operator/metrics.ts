// The operator's Prometheus metrics on a registry of its own (never prom-client's global one, so tests and two
// operators in one process do not collide). Labels carry names and codes only, never secrets.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { createObjectMetrics, type ObjectsSource } from "./object-metrics.ts";

/** Results a reconcile can end with, as the `result` label of `modelkeys_reconcile_total`. */
export type ReconcileResult = "success" | "requeue" | "error" | "terminal";

/** A connection's provider and Ready status, as counted by `modelkeys_connections`. */
export interface ConnectionSample {
  provider: string;
  ready: "True" | "False" | "Unknown";
}

/** Every metric the operator exports, plus the registry to serve. */
export interface Metrics {
  registry: Registry;
  /** What /metrics serves: the registry's metrics, then the per-object gauges (see object-metrics.ts). */
  render(): Promise<string>;
  /** The same text in pieces (the registry's, then the per-object families' in pieces of ~16 KiB), to stream. */
  chunks(): AsyncGenerator<string>;
  /** `modelkeys_reconcile_total{result}`. */
  reconcileTotal: Counter<"result">;
  /** `modelkeys_reconcile_duration_seconds`. */
  reconcileDuration: Histogram;
  /** `modelkeys_queue_depth`: keys waiting to run (not delayed, not running). */
  queueDepth: Gauge;
  /** `modelkeys_app_requests_total{method,route,code}`; `route` is a template such as `/api/…/{id}`, `code` is
   * the HTTP status or an error class (`timeout`, `network`). */
  appRequestsTotal: Counter<"method" | "route" | "code">;
  /** `modelkeys_app_request_duration_seconds{method,route}`. */
  appRequestDuration: Histogram<"method" | "route">;
  /** `modelkeys_provider_requests_total{provider,outcome}`. */
  providerRequestsTotal: Counter<"provider" | "outcome">;
  /** `modelkeys_connections{provider,ready}`, computed at scrape time from {@link Metrics.setConnectionsSource}. */
  connections: Gauge<"provider" | "ready">;
  /** `modelkeys_leader`: 1 on the replica that holds the Lease (or runs without election), else 0. */
  leader: Gauge;
  /** `modelkeys_kube_connections_opened_total`: TCP connections opened to the API server (keep-alive reuses them). */
  kubeConnectionsOpened: Counter;
  /** `modelkeys_kube_throttled_total`: 429 answers from the API server (each request is repeated after Retry-After). */
  kubeThrottled: Counter;
  /**
   * `modelkeys_kube_in_flight_limit`: API server requests allowed in flight now; below --kube-max-in-flight while
   * the server throttles.
   */
  kubeInFlightLimit: Gauge;
  /** `modelkeys_events_dropped_total{reason}`: routine Normal Events left out by the Event recorder's pacing. */
  eventsDropped: Counter<"reason">;
  /**
   * `modelkeys_connection_finalizer_writes_total{action}`: the operator's own writes of its finalizer on
   * ProviderConnections. `added` stays 0 for new connections where the install's finalizer policy is in force.
   */
  connectionFinalizerWrites: Counter<"action">;
  /** Supplies the connections counted at each scrape (typically from the informer's cache). */
  setConnectionsSource(source: () => Iterable<ConnectionSample>): void;
  /** Supplies the objects behind the per-connection and per-organization gauges (see object-metrics.ts). */
  setObjectsSource(source: ObjectsSource): void;
}

export interface MetricsOptions {
  /** Also export prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
}

/** Creates the registry and the operator's metrics on it. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  let connectionsSource: () => Iterable<ConnectionSample> = () => [];
  let objectsSource: ObjectsSource | undefined;
  const objectMetrics = createObjectMetrics(() => objectsSource);
  async function* chunks() {
    yield await registry.metrics();
    yield* objectMetrics.chunks();
  }

  const connections = new Gauge({
    name: "modelkeys_connections",
    help: "ProviderConnections by provider and Ready status.",
    labelNames: ["provider", "ready"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { provider, ready } of connectionsSource()) this.inc({ provider, ready });
    },
  });

  const connectionFinalizerWrites = new Counter({
    name: "modelkeys_connection_finalizer_writes_total",
    help: "Writes of the operator's finalizer on ProviderConnections by action (added, removed); added stays 0 where the install's finalizer policy adds it at creation.",
    labelNames: ["action"] as const,
    registers: [registry],
  });
  // Both series from the start: an SRE checking the policy reads a 0, not a missing series.
  for (const action of ["added", "removed"]) connectionFinalizerWrites.inc({ action }, 0);

  return {
    registry,
    chunks,
    async render() {
      let text = "";
      for await (const chunk of chunks()) text += chunk;
      return text;
    },
    reconcileTotal: new Counter({
      name: "modelkeys_reconcile_total",
      help: "Reconciles by result.",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: "modelkeys_reconcile_duration_seconds",
      help: "Duration of one reconcile.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "modelkeys_queue_depth",
      help: "Keys waiting in the work queue.",
      registers: [registry],
    }),
    appRequestsTotal: new Counter({
      name: "modelkeys_app_requests_total",
      help: "Requests to the Label Studio API by method, route template and status code.",
      labelNames: ["method", "route", "code"] as const,
      registers: [registry],
    }),
    appRequestDuration: new Histogram({
      name: "modelkeys_app_request_duration_seconds",
      help: "Latency of requests to the Label Studio API.",
      labelNames: ["method", "route"] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    providerRequestsTotal: new Counter({
      name: "modelkeys_provider_requests_total",
      help: "Requests to model providers by provider and outcome.",
      labelNames: ["provider", "outcome"] as const,
      registers: [registry],
    }),
    connections,
    leader: new Gauge({
      name: "modelkeys_leader",
      help: "1 when this replica is the leader.",
      registers: [registry],
    }),
    kubeConnectionsOpened: new Counter({
      name: "modelkeys_kube_connections_opened_total",
      help: "TCP connections opened to the Kubernetes API server.",
      registers: [registry],
    }),
    kubeThrottled: new Counter({
      name: "modelkeys_kube_throttled_total",
      help: "429 answers from the Kubernetes API server (the request is repeated after Retry-After).",
      registers: [registry],
    }),
    kubeInFlightLimit: new Gauge({
      name: "modelkeys_kube_in_flight_limit",
      help: "Kubernetes API server requests allowed in flight now, lowered while the server answers 429.",
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: "modelkeys_events_dropped_total",
      help: "Normal Events not recorded because of the Event recorder's pacing.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    connectionFinalizerWrites,
    setConnectionsSource(source) {
      connectionsSource = source;
    },
    setObjectsSource(source) {
      objectsSource = source;
    },
  };
}
