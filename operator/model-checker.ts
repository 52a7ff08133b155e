// Connects reconcile to the provider modules: runs each check with the catalogue in force (shipped, or
// overridden by a ConfigMap) and the egress guard from configuration, and counts its outcome.

import type { Provider } from "../crds/providerconnection.ts";
import { watchCatalogue } from "./catalogue-watch.ts";
import type { Config } from "./config.ts";
import type { KubeClient } from "./kube/client.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { createEgressGuard } from "./providers/egress.ts";
import { checkModels, ListingCache, loadChecker } from "./providers/index.ts";
import type { ModelCheck, ModelCheckRequest, ProviderBaseUrls } from "./providers/types.ts";

export { CATALOGUE_KEY } from "./catalogue-watch.ts";

export interface ModelCheckerOptions {
  config: Pick<Config, "providerTimeoutMs" | "egressAllow" | "catalogueConfigMap">;
  metrics: Metrics;
  log: Logger;
  kc: KubeClient;
  /** Where the providers live; tests and the sandbox point them at local stand-ins. */
  baseUrls?: ProviderBaseUrls;
}

export interface ModelChecker {
  check(request: ModelCheckRequest): Promise<ModelCheck>;
  /** Loads a provider's module in the background, once (a failure is left to the first check to report). */
  prepare(provider: Provider): void;
  /** Stops the catalogue's watch. */
  stop(): Promise<void>;
}

/**
 * A model checker. The catalogue override's ConfigMap is watched from the first check on (see
 * {@link watchCatalogue}), so an edit takes effect without a restart and a check costs the API server nothing.
 */
export function createModelChecker(options: ModelCheckerOptions): ModelChecker {
  const { config, metrics, log } = options;
  const egress = createEgressGuard({ allow: config.egressAllow });
  const catalogue = watchCatalogue({ kc: options.kc, ref: config.catalogueConfigMap, log });
  const listings = new ListingCache();
  const prepared = new Set<Provider>();

  return {
    async check(request) {
      const result = await checkModels(request, {
        catalogue: await catalogue.current(),
        timeoutMs: config.providerTimeoutMs,
        baseUrls: options.baseUrls,
        egress,
        listings,
      });
      metrics.providerRequestsTotal.inc({ provider: request.provider, outcome: result.outcome });
      return result;
    },
    prepare(provider) {
      if (prepared.has(provider)) return;
      prepared.add(provider);
      loadChecker(provider).catch(() => prepared.delete(provider));
    },
    stop: () => catalogue.stop(),
  };
}
