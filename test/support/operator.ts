// Runs the operator's controller in-process against the shared test cluster, as the operator's own identity,
// with its logs collected for assertions and canary scans.
import type { ProviderConnection } from "../../crds/index.ts";
import { systemClock } from "../../operator/clock.ts";
import { parseConfig } from "../../operator/config.ts";
import { type Controller, startController } from "../../operator/controller.ts";
import { createLogger } from "../../operator/log.ts";
import { createMetrics, type Metrics } from "../../operator/metrics.ts";
import { createModelChecker } from "../../operator/model-checker.ts";
import type { ProviderBaseUrls } from "../../operator/providers/types.ts";
import type { ModelCheckRequest, ProvisionView } from "../../operator/reconcile/ports.ts";
import type { ModelCheckView } from "../../operator/reconcile/types.ts";
import { testCluster } from "./cluster.ts";
import { waitFor } from "./wait.ts";

export interface TestOperator {
  controller: Controller;
  metrics: Metrics;
  /** Every log line so far, as written (JSON lines). */
  logs(): string;
  stop(): Promise<void>;
}

export interface TestOperatorOptions {
  namespace: string;
  /** Flags as on the command line, e.g. `--resync-interval=2s`. */
  flags?: string[];
  baseUrls?: ProviderBaseUrls;
  /** Replaces the provider checks (for tests about the app side only). */
  checkModels?: (request: ModelCheckRequest) => Promise<ModelCheckView>;
  provision?: (connection: ProviderConnection) => Promise<ProvisionView>;
}

/** Starts a controller watching one namespace; resolves once its informers have listed. */
export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  const config = parseConfig(
    [
      `--namespace=${options.namespace}`,
      "--leader-election=false",
      "--metrics-port=0",
      "--health-port=0",
      ...(options.flags ?? []),
    ],
    {},
  );
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    destination: { write: (line: string) => void lines.push(line) },
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const kc = cluster.operator.kubeConfig;
  const checker = createModelChecker({ config, metrics, log, kc, baseUrls: options.baseUrls });
  const controller = await startController({
    kc,
    config,
    log,
    metrics,
    clock: systemClock,
    checkModels: options.checkModels ?? checker.check,
    provision: options.provision,
  });
  await waitFor(() => controller.synced(), { description: "informers synced", timeoutMs: 30_000 });
  return { controller, metrics, logs: () => lines.join(""), stop: () => controller.stop() };
}
