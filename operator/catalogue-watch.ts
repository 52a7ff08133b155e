// The model catalogue in force: the shipped one, or the override in one ConfigMap, kept current by a watch of that
// ConfigMap alone (a fieldSelector on its name). A check reads it from memory: a GET per check would cost the API
// server one request per connection and refresh, 10,000 at a fleet's start.
import { systemClock, within } from "./clock.ts";
import type { KubeClient, KubeObject } from "./kube/client.ts";
import { createInformer } from "./kube/informer.ts";
import type { Logger } from "./log.ts";
import { type Catalogue, loadCatalogue, SHIPPED_CATALOGUE } from "./providers/catalogue.ts";

/** The ConfigMap key that holds a catalogue override (YAML or JSON). */
export const CATALOGUE_KEY = "catalogue.yaml";

/** How long the first check waits for the override's first list before it goes on with the shipped catalogue. */
const FIRST_SYNC_WAIT_MS = 5000;

export interface CatalogueSource {
  /** The catalogue to check with now. Never rejects: a missing or broken override means the shipped one. */
  current(): Promise<Catalogue>;
  stop(): Promise<void>;
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

/**
 * The catalogue from `ref`'s ConfigMap, or the shipped one when `ref` is undefined.
 *
 * Guarantees: the watch starts at the first `current()` (only a leader checks models) and each version of the
 * ConfigMap is parsed once, when it arrives; a version that does not parse is logged (`catalogue.override.invalid`,
 * naming the field) and the shipped catalogue is used until a good one arrives; removing the ConfigMap restores
 * the shipped catalogue (`catalogue.override.removed`). An edit applies to the checks that start after the watch
 * delivered it (`catalogue.loaded` in the log).
 * Caveats: while the first list fails (RBAC, an API server outage), the first check waits up to 5 s, then checks
 * use the shipped catalogue until the watch syncs (its failures are logged by the informer).
 */
export function watchCatalogue(options: {
  kc: KubeClient;
  ref: { namespace: string; name: string } | undefined;
  log: Logger;
}): CatalogueSource {
  const { ref, log } = options;
  if (!ref) return { current: async () => SHIPPED_CATALOGUE, stop: async () => undefined };
  const where = `${ref.namespace}/${ref.name}`;
  const informer = createInformer<ConfigMap>({
    kc: options.kc,
    resource: { group: "", version: "v1", plural: "configmaps" },
    namespace: ref.namespace,
    fieldSelector: `metadata.name=${ref.name}`,
    name: "catalogue",
    log,
  });
  let inForce: Catalogue = SHIPPED_CATALOGUE;
  const load = (map: ConfigMap) => {
    try {
      inForce = loadCatalogue(map.data?.[CATALOGUE_KEY]);
      log.info({ event: "catalogue.loaded", configMap: where, version: inForce.version });
    } catch (error) {
      inForce = SHIPPED_CATALOGUE;
      log.warn({ event: "catalogue.override.invalid", configMap: where, error: (error as Error).message });
    }
  };
  informer.on("add", load);
  informer.on("update", load);
  informer.on("delete", () => {
    inForce = SHIPPED_CATALOGUE;
    log.info({ event: "catalogue.override.removed", configMap: where, version: inForce.version });
  });

  // Every check waits for the same first sync (bounded), then reads what the watch delivered.
  const firstSync = async () => {
    await within(systemClock, informer.start(), FIRST_SYNC_WAIT_MS, () => undefined);
    if (!informer.hasSynced())
      log.warn(
        { event: "catalogue.override.unread", configMap: where },
        "checking with the shipped catalogue",
      );
  };
  let synced: Promise<void> | undefined;
  return {
    async current() {
      synced ??= firstSync();
      await synced;
      return inForce;
    },
    stop: () => informer.stop(),
  };
}
