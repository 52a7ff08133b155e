// The operator process: configuration, logs, health and metrics, leader election, the controller, and —
// with no cluster configured — the embedded local environment.
import { existsSync } from "node:fs";
import type { LocalEnvironment } from "../local/sandbox.ts";
import { createAccountController } from "./accounts/controller.ts";
import { disabledProvisioning } from "./accounts/disabled.ts";
import { systemClock } from "./clock.ts";
import { loadConfigOrExit } from "./config.ts";
import { type Controller, startController } from "./controller.ts";
import { type HealthServer, startHealthServer } from "./health.ts";
import { KubeClient } from "./kube/client.ts";
import { loadClusterAccess } from "./kube/kubeconfig.ts";
import { RenewalPriority } from "./kube/renewal-priority.ts";
import { dedicatedConnections } from "./kube/transport.ts";
import { createLeaderElector, type LeaderElector } from "./leader.ts";
import { createLogger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { createModelChecker, type ModelChecker } from "./model-checker.ts";
import type { ProviderBaseUrls } from "./providers/types.ts";
import { RELEASE_VERSION } from "./version.ts";

// Answered before configuration parsing, so that it works whatever else the command line holds.
if (process.argv.slice(2).includes("--version")) {
  process.stdout.write(`modelkeys ${RELEASE_VERSION}\n`);
  process.exit(0);
}

const config = loadConfigOrExit();
const log = createLogger({ level: config.logLevel });
const metrics = createMetrics();

/** A cluster is configured when a kubeconfig is named, one is at the default place, or we run in a pod. */
function clusterConfigured(): boolean {
  if (config.local) return false;
  if (config.kubeconfig || process.env.KUBERNETES_SERVICE_HOST) return true;
  return Boolean(process.env.HOME) && existsSync(`${process.env.HOME}/.kube/config`);
}

// What has been started so far; shutdown stops exactly these, in reverse order.
let local: LocalEnvironment | undefined;
let health: HealthServer | undefined;
let elector: LeaderElector | undefined;
let controller: Controller | undefined;
let checker: ModelChecker | undefined;
let leading: Promise<void> | undefined;
let hintPrinted = false;
let shuttingDown = false;
const stopStarting = new AbortController();

// Signals may arrive more than once (a terminal's Ctrl-C reaches npm, tsx and us): the first one counts.
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

// An abort by shutdown is no failure: shutdown is already under way.
const startup = start().catch((error) => (stopStarting.signal.aborted ? undefined : fail(error)));

async function start(): Promise<void> {
  let kc: KubeClient;
  let baseUrls: ProviderBaseUrls | undefined;
  if (clusterConfigured()) {
    kc = new KubeClient(loadClusterAccess(config.kubeconfig ? { file: config.kubeconfig } : {}));
  } else {
    log.info({ event: "local.starting" }, "no cluster configured: starting the embedded local environment");
    const { startLocalEnvironment } = await import("../local/sandbox.ts");
    local = await startLocalEnvironment(log, { signal: stopStarting.signal });
    kc = new KubeClient(loadClusterAccess({ file: local.operatorKubeconfigPath }));
    baseUrls = local.providerBaseUrls;
  }
  log.info({ event: "kube.configured", source: kc.access.source, server: kc.access.server });
  if (shuttingDown) return;

  health = await startHealthServer({
    config,
    metrics,
    log,
    // A standby replica is ready (it serves metrics and waits for the Lease); a leader once its caches are filled.
    ready: () => (controller ? controller.synced() : true),
  });
  if (shuttingDown) return;

  checker = createModelChecker({ config, metrics, log, kc, baseUrls });
  const { check, prepare } = checker;
  // Lease renewals go first: the controller's requests wait while one runs.
  const renewalPriority = new RenewalPriority();
  const lead = () => {
    leading = (async () => {
      metrics.leader.set(1);
      controller = await startController({
        kc,
        config,
        log,
        metrics,
        clock: systemClock,
        checkModels: check,
        prepareCheck: prepare,
        provisioning: config.azureProvisioning
          ? createAccountController({ kc, config, log, clock: systemClock })
          : disabledProvisioning(),
        renewalPriority,
      });
      await printLocalHint();
    })();
    leading.catch(fail);
  };

  if (!config.leaderElection) {
    lead();
    return;
  }
  elector = createLeaderElector({
    // Connections of its own: renewals never queue behind (or get throttled with) the controller's traffic.
    kc: dedicatedConnections(kc),
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    clock: systemClock,
    log,
    during: (attempt) => renewalPriority.during(attempt),
  });
  // Never aborted: shutdown drains the controller while still leading, then elector.release() stops it.
  void elector.run(new AbortController().signal, {
    onStartedLeading: lead,
    // Lost leadership mid-flight: another replica may already lead, so no reconcile may finish here. Exit at once,
    // without draining, and let the restart start clean (as controller-runtime does).
    onStoppedLeading: () => {
      if (shuttingDown) return;
      log.error(
        { event: "leader.lost", identity: config.identity },
        "leadership lost: exiting without draining",
      );
      process.exit(1);
    },
  });
}

/** In local mode, once the operator runs: the one line README promises. */
async function printLocalHint(): Promise<void> {
  if (!local || hintPrinted || shuttingDown) return;
  hintPrinted = true;
  const { lookCommand } = await import("../local/sandbox.ts");
  const command = lookCommand(local);
  log.info({ event: "local.ready", look: command }, "local environment ready");
  process.stdout.write(`\nlook with:  ${command}\n\n`);
}

async function stopLeading(): Promise<void> {
  await leading?.catch(() => undefined);
  await controller?.stop();
  controller = undefined;
  await checker?.stop();
  metrics.leader.set(0);
}

/** Stops in order: readiness off, in-flight reconciles finish, the Lease released, servers, the sandbox. */
async function shutdown(reason: string, code = 0): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ event: "operator.stopping", reason });
  stopStarting.abort(new Error(`stopped during startup (${reason})`));
  // A signal during startup: let the step under way finish, so that everything it started is stopped below.
  await startup;
  health?.markShuttingDown();
  await step("controller", stopLeading);
  await step("lease", async () => elector?.release());
  await step("health", async () => health?.close());
  await step("local", async () => local?.stop());
  log.info({ event: "operator.stopped", code });
  process.exit(code);
}

async function step(name: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    log.error({ event: "operator.stop_failed", step: name, error: (error as Error).message });
  }
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  log.error({ event: "operator.failed", error: message });
  if (!shuttingDown) process.stderr.write(`modelkeys: ${message}\n`);
  void shutdown("error", 1);
}
