// Runs the operator's controller in this process against any cluster, with its logs collected in memory: for the
// integration tests (through test/support/operator.ts) and for the benchmarks, which run outside vitest.
import { systemClock } from "../../operator/clock.ts";
import { type LogLevel, parseConfig } from "../../operator/config.ts";
import { type Controller, startController } from "../../operator/controller.ts";
import type { KubeClient } from "../../operator/kube/client.ts";
import { createLogger } from "../../operator/log.ts";
import { createMetrics, type Metrics } from "../../operator/metrics.ts";
import { createModelChecker } from "../../operator/model-checker.ts";
import type { ModelCheck, ModelCheckRequest, ProviderBaseUrls } from "../../operator/providers/types.ts";
import type { Provisioning } from "../../operator/reconcile/ports.ts";
import { waitFor } from "./wait.ts";

export interface InProcessOperator {
  controller: Controller;
  metrics: Metrics;
  /** Every log line so far, as written (JSON lines). */
  logs(): string;
  stop(): Promise<void>;
}

export interface InProcessOperatorOptions {
  /** Whom the controller acts as: the operator's identity, so RBAC applies as in a cluster. */
  kc: KubeClient;
  /** The namespace to watch, or several (`--namespaces`). */
  namespace: string | readonly string[];
  /** Flags as on the command line, e.g. `--resync-interval=2s`. */
  flags?: string[];
  baseUrls?: ProviderBaseUrls;
  /** Replaces the provider checks (for tests about the app side only). */
  checkModels?: (request: ModelCheckRequest) => Promise<ModelCheck>;
  /** Provisioning with background work (e.g. createAzureProvisioning), attached to the controller. */
  provisioning?: Provisioning;
  /** @default "debug" */
  logLevel?: LogLevel;
}

/**
 * Starts a controller watching one namespace, without leader election or HTTP servers; resolves once its
 * informers have listed (30 s at most).
 */
export async function startInProcessOperator(options: InProcessOperatorOptions): Promise<InProcessOperator> {
  const config = parseConfig(
    [
      typeof options.namespace === "string"
        ? `--namespace=${options.namespace}`
        : `--namespaces=${options.namespace.join(",")}`,
      "--leader-election=false",
      "--metrics-port=0",
      "--health-port=0",
      ...(options.flags ?? []),
    ],
    {},
  );
  const lines: string[] = [];
  const log = createLogger({
    level: options.logLevel ?? "debug",
    destination: { write: (line: string) => void lines.push(line) },
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const { kc } = options;
  const checker = createModelChecker({ config, metrics, log, kc, baseUrls: options.baseUrls });
  const controller = await startController({
    kc,
    config,
    log,
    metrics,
    clock: systemClock,
    checkModels: options.checkModels ?? checker.check,
    prepareCheck: checker.prepare,
    provisioning: options.provisioning,
  });
  await waitFor(() => controller.synced(), { description: "informers synced", timeoutMs: 30_000 });
  return {
    controller,
    metrics,
    logs: () => lines.join(""),
    stop: async () => {
      await controller.stop();
      await checker.stop();
    },
  };
}
