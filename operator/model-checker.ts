// Connects reconcile to the provider modules: runs each check with the catalogue in force (shipped, or
// overridden by a ConfigMap) and the egress guard from configuration, and counts its outcome.
import type { Config } from "./config.ts";
import { isStatus, type KubeClient, type KubeObject } from "./kube/client.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { type Catalogue, loadCatalogue, SHIPPED_CATALOGUE } from "./providers/catalogue.ts";
import { createEgressGuard } from "./providers/egress.ts";
import { checkModels } from "./providers/index.ts";
import type { ModelCheck, ModelCheckRequest, ProviderBaseUrls } from "./providers/types.ts";

/** The ConfigMap key that holds a catalogue override (YAML or JSON). */
export const CATALOGUE_KEY = "catalogue.yaml";

export interface ModelCheckerOptions {
  config: Pick<Config, "providerTimeoutMs" | "egressAllow" | "catalogueConfigMap">;
  metrics: Metrics;
  log: Logger;
  kc: KubeClient;
  /** Where the providers live; tests and the sandbox point them at local stand-ins. */
  baseUrls?: ProviderBaseUrls;
}

/**
 * A model checker. The catalogue override is read from its ConfigMap at each check (checks are rare: at most
 * once per refresh interval per connection), so an edit takes effect without a restart; a broken override is
 * logged and the shipped catalogue is used.
 */
export function createModelChecker(options: ModelCheckerOptions): {
  check(request: ModelCheckRequest): Promise<ModelCheck>;
} {
  const { config, metrics, log } = options;
  const egress = createEgressGuard({ allow: config.egressAllow });
  const readConfigMap = (namespace: string, name: string) =>
    options.kc.request<KubeObject & { data?: Record<string, string> }>(
      "GET",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
    );
  let cached: { resourceVersion: string; catalogue: Catalogue } | undefined;

  async function catalogue(): Promise<Catalogue> {
    const ref = config.catalogueConfigMap;
    if (!ref) return SHIPPED_CATALOGUE;
    try {
      const map = await readConfigMap(ref.namespace, ref.name);
      const resourceVersion = map.metadata?.resourceVersion ?? "";
      if (cached?.resourceVersion === resourceVersion) return cached.catalogue;
      const loaded = loadCatalogue(map.data?.[CATALOGUE_KEY]);
      cached = { resourceVersion, catalogue: loaded };
      log.info({
        event: "catalogue.loaded",
        configMap: `${ref.namespace}/${ref.name}`,
        version: loaded.version,
      });
      return loaded;
    } catch (error) {
      if (!isStatus(error, 404)) {
        log.warn({
          event: "catalogue.override.invalid",
          configMap: `${ref.namespace}/${ref.name}`,
          error: (error as Error).message,
        });
      }
      return SHIPPED_CATALOGUE;
    }
  }

  return {
    async check(request) {
      const result = await checkModels(request, {
        catalogue: await catalogue(),
        timeoutMs: config.providerTimeoutMs,
        baseUrls: options.baseUrls,
        egress,
      });
      metrics.providerRequestsTotal.inc({ provider: request.provider, outcome: result.outcome });
      return result;
    },
  };
}
