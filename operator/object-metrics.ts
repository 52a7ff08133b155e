// Per-object gauges to alert on, computed at scrape time from the informers' caches: one series per
// connection and per Organization, labelled with names only (namespace, name, provider), never values. Rendered
// as Prometheus text directly (see createObjectMetrics), after the registry's own metrics.
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

/** One gauge family: its name, help, label names and one sample's value per object (undefined: no sample). */
interface Family<T> {
  name: string;
  help: string;
  value: (object: T) => number | undefined;
  /** A label after the object's own (the info gauges' reason). */
  reason?: (object: T) => string;
}

/**
 * The per-object gauges as Prometheus text, computed at scrape time from `source()`.
 *
 * Guarantees: labels are namespace, name, provider and (info gauges only) a reason from the closed set of
 * documented reasons; a deleted object's series disappear at the next scrape; nothing is kept between scrapes but
 * each cached object's escaped label text (in a WeakMap: it goes with the object).
 * Why text, not prom-client gauges: six gauges over 10,000 connections are 60,000 labelled samples, which
 * prom-client hashes and formats one by one (about 400 ms of CPU per scrape, measured); here a scrape only
 * joins strings (80–110 ms in a scratch measure; each object's label text is escaped once), and the response
 * streams them in pieces of {@link CHUNK_CHARS}.
 */
export function createObjectMetrics(
  source: () => ObjectsSource | undefined,
  now: () => Date = () => new Date(),
): { chunks(): Generator<string> } {
  const labelText = new WeakMap<object, string>();
  const labels = (object: ProviderConnection | Organization, provider?: string) => {
    let text = labelText.get(object);
    if (text === undefined) {
      text = `namespace="${escapeLabel(object.metadata.namespace ?? "")}",name="${escapeLabel(object.metadata.name)}"`;
      if (provider !== undefined) text += `,provider="${escapeLabel(provider)}"`;
      labelText.set(object, text);
    }
    return text;
  };
  const connectionFamilies: Family<ProviderConnection>[] = [
    {
      name: OBJECT_METRICS.connectionReady,
      help: "1 when the ProviderConnection is Ready, else 0.",
      value: (c) => (readiness(c).status === "True" ? 1 : 0),
    },
    {
      name: OBJECT_METRICS.connectionInfo,
      help: "Always 1; the reason label is the Ready condition's reason (a documented reason, or Other).",
      value: () => 1,
      reason: (c) => reasonLabel(readiness(c).reason),
    },
    {
      name: OBJECT_METRICS.keyAgeSeconds,
      help: "Seconds since the key was last rotated (or first synced).",
      value: (c) => {
        const age = keyAgeMs(c, now());
        return age === undefined ? undefined : Math.floor(age / 1000);
      },
    },
    {
      name: OBJECT_METRICS.keyRotationDue,
      help: "1 when the key is past its max age (KeyRotationDue=True), else 0.",
      value: (c) =>
        c.status?.conditions?.find((x) => x.type === CONDITION.KeyRotationDue)?.status === "True" ? 1 : 0,
    },
    {
      name: OBJECT_METRICS.modelsAvailable,
      help: "Models the key reaches (of spec.models when set, else of the supported ones).",
      value: (c) => modelCounts(c)?.working,
    },
    {
      name: OBJECT_METRICS.modelsExpected,
      help: "Models expected (spec.models when set, else the supported ones checked).",
      value: (c) => modelCounts(c)?.expected,
    },
  ];
  const readyOf = (o: Organization) => o.status?.conditions?.find((x) => x.type === CONDITION.Ready);
  const organizationFamilies: Family<Organization>[] = [
    {
      name: OBJECT_METRICS.organizationReady,
      help: "1 when the Organization is Ready, else 0.",
      value: (o) => (readyOf(o)?.status === "True" ? 1 : 0),
    },
    {
      name: OBJECT_METRICS.organizationInfo,
      help: "Always 1; the reason label is the Organization's Ready reason (a documented reason, or Other).",
      value: () => 1,
      reason: (o) => reasonLabel(readyOf(o)?.reason ?? "NotReconciled"),
    },
    {
      name: OBJECT_METRICS.unmanagedRecords,
      help: "The organization's app records that no ProviderConnection manages (at the last listing).",
      value: (o) => o.status?.app?.unmanaged,
    },
    {
      name: OBJECT_METRICS.changedRecords,
      help: "Managed app records changed in the app since the operator's last write (at the last listing).",
      value: (o) => o.status?.app?.changed,
    },
  ];

  /**
   * One family as text, in pieces of about {@link CHUNK_CHARS}: its HELP and TYPE lines, then a sample per object
   * that has a value.
   */
  function* familyText<T extends ProviderConnection | Organization>(
    family: Family<T>,
    objects: Iterable<T>,
    labelsOf: (object: T) => string,
  ): Generator<string> {
    let text = `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`;
    for (const object of objects) {
      const value = family.value(object);
      if (value === undefined) continue;
      const reason = family.reason ? `,reason="${escapeLabel(family.reason(object))}"` : "";
      text += `${family.name}{${labelsOf(object)}${reason}} ${value}\n`;
      if (text.length >= CHUNK_CHARS) {
        yield text;
        text = "";
      }
    }
    if (text) yield text;
  }

  /** In small pieces, so that a scrape holds a few kilobytes of its text at a time, not all of it. */
  function* chunks(): Generator<string> {
    const objects = source();
    // Arrays (references only): each family walks them again.
    const connections = [...(objects?.connections() ?? [])];
    const organizations = [...(objects?.organizations() ?? [])];
    for (const family of connectionFamilies)
      yield* familyText(family, connections, (c) => labels(c, c.spec.provider));
    for (const family of organizationFamilies) yield* familyText(family, organizations, (o) => labels(o));
  }

  return { chunks };
}

/**
 * The size of a piece of the text, in characters: well below V8's large-object size (128 KiB), so each piece dies
 * young. One string per family (about 1 MB each at 10,000 connections) went to the large-object space and grew
 * the old generation by 13 MiB at the first scrape and 26 MiB after six (a scratch measure of the real /metrics
 * server with 10,000 Ready connections, scraped by curl).
 */
const CHUNK_CHARS = 16 * 1024;

/** A label value as the exposition format writes it: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    : value;
}
