// Per-object gauges to alert on, computed at scrape time from the informers' caches: one series per
// connection and per Organization, labelled with names only (namespace, name, provider), never values.
import { Gauge, type Registry } from "prom-client";
import {
  keyAgeMs,
  modelCounts,
  type Organization,
  type ProviderConnection,
  readiness,
} from "../crds/index.ts";
import { CONDITION, REASON } from "./constants.ts";

/** What the gauges read at each scrape (typically the informers' caches). */
export interface ObjectsSource {
  connections(): Iterable<ProviderConnection>;
  organizations(): Iterable<Organization>;
}

/** Every reason a label may carry: the operator's own (a closed set), else "Other". */
const KNOWN_REASONS = new Set<string>([...Object.values(REASON), "NotReconciled"]);
/** Bounds the `reason` label to the documented reasons. */
export function reasonLabel(reason: string): string {
  return KNOWN_REASONS.has(reason) ? reason : "Other";
}

/** The names of the per-object metrics (for the monitoring rules and dashboard, and their test). */
export const OBJECT_METRICS = {
  connectionReady: "modelkeys_connection_ready",
  connectionInfo: "modelkeys_connection_info",
  keyAgeSeconds: "modelkeys_connection_key_age_seconds",
  keyRotationDue: "modelkeys_connection_key_rotation_due",
  modelsAvailable: "modelkeys_connection_models_available",
  modelsExpected: "modelkeys_connection_models_expected",
  organizationReady: "modelkeys_organization_ready",
  organizationInfo: "modelkeys_organization_info",
  unmanagedRecords: "modelkeys_organization_unmanaged_records",
  changedRecords: "modelkeys_organization_changed_records",
} as const;

/**
 * Registers the per-object gauges on `registry`; each reads `source()` at scrape time.
 *
 * Guarantees: labels are namespace, name, provider and (info gauges only) a reason from the closed set of
 * documented reasons; a deleted object's series disappear at the next scrape.
 */
export function registerObjectMetrics(
  registry: Registry,
  source: () => ObjectsSource | undefined,
  now: () => Date = () => new Date(),
): void {
  const connectionLabels = ["namespace", "name", "provider"] as const;
  const organizationLabels = ["namespace", "name"] as const;
  const perConnection = (name: string, help: string, value: (c: ProviderConnection) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: connectionLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of source()?.connections() ?? []) {
          const v = value(c);
          if (v !== undefined) this.set(connectionKeys(c), v);
        }
      },
    });
  const perOrganization = (name: string, help: string, value: (o: Organization) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: organizationLabels,
      registers: [registry],
      collect() {
        this.reset();
        for (const o of source()?.organizations() ?? []) {
          const v = value(o);
          if (v !== undefined) this.set({ namespace: o.metadata.namespace, name: o.metadata.name }, v);
        }
      },
    });

  perConnection(OBJECT_METRICS.connectionReady, "1 when the ProviderConnection is Ready, else 0.", (c) =>
    readiness(c).status === "True" ? 1 : 0,
  );
  new Gauge({
    name: OBJECT_METRICS.connectionInfo,
    help: "Always 1; the reason label is the Ready condition's reason (a documented reason, or Other).",
    labelNames: [...connectionLabels, "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of source()?.connections() ?? [])
        this.set({ ...connectionKeys(c), reason: reasonLabel(readiness(c).reason) }, 1);
    },
  });
  perConnection(
    OBJECT_METRICS.keyAgeSeconds,
    "Seconds since the key was last rotated (or first synced).",
    (c) => {
      const age = keyAgeMs(c, now());
      return age === undefined ? undefined : Math.floor(age / 1000);
    },
  );
  perConnection(
    OBJECT_METRICS.keyRotationDue,
    "1 when the key is past its max age (KeyRotationDue=True), else 0.",
    (c) =>
      c.status?.conditions?.find((x) => x.type === CONDITION.KeyRotationDue)?.status === "True" ? 1 : 0,
  );
  perConnection(
    OBJECT_METRICS.modelsAvailable,
    "Models the key reaches (of spec.models when set, else of the supported ones).",
    (c) => modelCounts(c)?.working,
  );
  perConnection(
    OBJECT_METRICS.modelsExpected,
    "Models expected (spec.models when set, else the supported ones checked).",
    (c) => modelCounts(c)?.expected,
  );
  perOrganization(OBJECT_METRICS.organizationReady, "1 when the Organization is Ready, else 0.", (o) =>
    o.status?.conditions?.find((x) => x.type === CONDITION.Ready)?.status === "True" ? 1 : 0,
  );
  new Gauge({
    name: OBJECT_METRICS.organizationInfo,
    help: "Always 1; the reason label is the Organization's Ready reason (a documented reason, or Other).",
    labelNames: [...organizationLabels, "reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const o of source()?.organizations() ?? []) {
        const reason =
          o.status?.conditions?.find((x) => x.type === CONDITION.Ready)?.reason ?? "NotReconciled";
        this.set({ namespace: o.metadata.namespace, name: o.metadata.name, reason: reasonLabel(reason) }, 1);
      }
    },
  });
  perOrganization(
    OBJECT_METRICS.unmanagedRecords,
    "The organization's app records that no ProviderConnection manages (at the last listing).",
    (o) => o.status?.app?.unmanaged,
  );
  perOrganization(
    OBJECT_METRICS.changedRecords,
    "Managed app records changed in the app since the operator's last write (at the last listing).",
    (o) => o.status?.app?.changed,
  );
  // Every scrape recomputes these series from the caches; keeping them until the next one would hold a labelled
  // series per object and metric between scrapes (megabytes at 10,000 connections).
  for (const name of Object.values(OBJECT_METRICS)) {
    const gauge = registry.getSingleMetric(name) as Gauge | undefined;
    if (!gauge) continue;
    const get = gauge.get.bind(gauge);
    gauge.get = async () => {
      const values = await get();
      gauge.reset();
      return values;
    };
  }
}

function connectionKeys(c: ProviderConnection) {
  return { namespace: c.metadata.namespace, name: c.metadata.name, provider: c.spec.provider };
}
