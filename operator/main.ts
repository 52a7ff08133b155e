// The operator process: configuration, logs, health and metrics, leader election, the controller, and —
// with no cluster configured — the embedded local environment.
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { systemClock } from "./clock.ts";
import { loadConfigOrExit } from "./config.ts";
import { type Controller, startController } from "./controller.ts";
import { startHealthServer } from "./health.ts";
import { createLeaderElector } from "./leader.ts";
import { createLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { createModelChecker } from "./model-checker.ts";

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel });
const metrics = createMetrics();

/** A cluster is configured when a kubeconfig is named, one is at the default place, or we run in a pod. */
function clusterConfigured(): boolean {
  if (config.local) return false;
  if (config.kubeconfig || process.env.KUBERNETES_SERVICE_HOST) return true;
  return existsSync(`${process.env.HOME}/.kube/config`);
}

let stopLocal: (() => Promise<void>) | undefined;
const kc = new KubeConfig();
if (clusterConfigured()) {
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
} else {
  log.info({ event: "local.starting" }, "no cluster configured: starting the embedded local control plane");
  const { startLocalEnvironment } = await import("../local/sandbox.ts");
  const local = await startLocalEnvironment(log);
  stopLocal = local.stop;
  kc.loadFromFile(local.operatorKubeconfigPath);
  log.info(
    { event: "local.ready", kubectl: `kubectl --kubeconfig ${local.adminKubeconfigPath} get pconn -A` },
    `local environment ready; look with: kubectl --kubeconfig .modelkeys/kubeconfig get pconn -A`,
  );
  process.stdout.write(`\nlook with:  kubectl --kubeconfig .modelkeys/kubeconfig get pconn -A\n\n`);
}

let controller: Controller | undefined;
const health = await startHealthServer({
  config,
  metrics,
  log,
  // A standby replica is ready (it serves metrics and waits for the Lease); a leader once its caches are filled.
  ready: () => (controller ? controller.synced() : true),
});

const checker = createModelChecker({ config, metrics, log, kc });
const abort = new AbortController();

async function lead(): Promise<void> {
  metrics.leader.set(1);
  controller = await startController({
    kc,
    config,
    log,
    metrics,
    clock: systemClock,
    checkModels: checker.check,
  });
}

async function stopLeading(): Promise<void> {
  metrics.leader.set(0);
  await controller?.stop();
  controller = undefined;
}

const elector = config.leaderElection
  ? createLeaderElector({
      kc,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
      clock: systemClock,
      log,
    })
  : undefined;

let shuttingDown = false;
async function shutdown(signal: string, code = 0): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ event: "operator.stopping", signal });
  health.markShuttingDown();
  abort.abort();
  await stopLeading();
  await elector?.release();
  await health.close();
  await stopLocal?.();
  log.info({ event: "operator.stopped" });
  process.exit(code);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));

if (elector) {
  void elector.run(abort.signal, {
    onStartedLeading: () => void lead().catch((error) => fail(error)),
    // Lost leadership mid-flight: stop at once and exit, so a restart starts clean (as controller-runtime does).
    onStoppedLeading: () => void (shuttingDown ? undefined : shutdown("leadership lost", 1)),
  });
} else {
  await lead().catch((error) => fail(error));
}

function fail(error: unknown): void {
  log.error({ event: "operator.failed", error: error instanceof Error ? error.message : String(error) });
  void shutdown("error", 1);
}
