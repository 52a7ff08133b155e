// The operator's account controller on the cloud-free engine (the stand-in program of state-program.ts), shared
// by the recovery tests and their child process, so that both leaders run the same controller and settings.
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { createAccountController } from "../../operator/accounts/controller.ts";
import { systemClock } from "../../operator/clock.ts";
import type { KubeClient } from "../../operator/kube/client.ts";
import type { Logger } from "../../operator/log.ts";
import { KubernetesStateStore } from "../../operator/pulumi-state/index.ts";
import type { Provisioning } from "../../operator/reconcile/ports.ts";
import { dynamicProviderEnv, standInPendingCreateId, standInProgram } from "./state-program.ts";

export interface StandInAccountControllerOptions {
  /** The operator's identity (its RBAC applies). */
  kc: KubeClient;
  /** The same identity for the state store, which speaks client-node. Without it, the operator's own store. */
  stateKc?: KubeConfig;
  /** This replica's name in the stacks' Leases. */
  identity: string;
  namespace: string;
  /** A directory of this process's own: the CLI's home and work directories go under it (`home`, `work`). */
  base: string;
  /** The stand-in world (its `ledger` of creates, its `cloud`). */
  world: string;
  log: Logger;
  /** The stack Lease's duration when `stateKc` is given (short, so that a successor takes over quickly). */
  leaseDurationMs?: number;
  /** Backoff of failed updates. @default 1 s doubling to 5 s */
  backoff?: { baseMs: number; maxMs: number };
}

/**
 * The account controller as main.ts builds it (state in Secrets of the account's namespace, the passphrase
 * Secret `modelkeys-pulumi`), with the stand-in program; with `stateKc`, a state store whose interrupted
 * creates of stand-in resources are recognised (as ARM ids are in production) and mirrored every 200 ms.
 */
export function standInAccountController(options: StandInAccountControllerOptions): Provisioning {
  const { namespace } = options;
  const leaseDurationMs = options.leaseDurationMs ?? 3000;
  return createAccountController({
    kc: options.kc,
    config: {
      identity: options.identity,
      namespaces: [namespace],
      concurrency: 4,
      pulumiBackendUrl: undefined,
      pulumiPassphraseSecret: { namespace, name: "modelkeys-pulumi", key: "passphrase" },
    },
    log: options.log,
    clock: systemClock,
    env: { ...process.env, AZURE_CLIENT_ID: undefined },
    automation: {
      pulumiHome: join(options.base, "home"),
      workRoot: join(options.base, "work"),
      env: dynamicProviderEnv,
      program: standInProgram({ dir: options.world }),
      ...(options.stateKc
        ? {
            state: {
              store: new KubernetesStateStore({
                kc: options.stateKc,
                identity: options.identity,
                timing: { leaseDurationMs, renewIntervalMs: leaseDurationMs / 6, retryPeriodMs: 200 },
              }),
              namespace,
              mirrorIntervalMs: 200,
              pendingCreateId: () => standInPendingCreateId,
            },
          }
        : {}),
    },
    backoff: options.backoff ?? { baseMs: 1000, maxMs: 5000 },
  });
}
