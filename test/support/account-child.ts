// The operator's account controller in a process of its own, for the leader-kill test: it stands for election
// on a Lease (the operator's leader election), and once leading runs the connection and account controllers on
// the stand-in engine; killed by the test mid-update. Arguments come as JSON in ACCOUNT_CHILD.
import { KubeConfig } from "@kubernetes/client-node";
import { systemClock } from "../../operator/clock.ts";
import { KubeClient } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import { createLeaderElector } from "../../operator/leader.ts";
import { createLogger } from "../../operator/log.ts";
import { standInAccountController } from "./account-operator.ts";
import { startInProcessOperator } from "./in-process-operator.ts";

const args = JSON.parse(process.env.ACCOUNT_CHILD ?? "{}") as {
  kubeconfig: string;
  namespace: string;
  base: string;
  world: string;
  leaseName: string;
  identity: string;
};
const kc = new KubeClient(loadClusterAccess({ file: args.kubeconfig }));
const stateKc = new KubeConfig();
stateKc.loadFromFile(args.kubeconfig);
const log = createLogger({ level: "info", destination: process.stderr });
const elector = createLeaderElector({
  kc,
  namespace: args.namespace,
  name: args.leaseName,
  identity: args.identity,
  leaseDurationMs: 3000,
  renewDeadlineMs: 2000,
  retryPeriodMs: 500,
  clock: systemClock,
  log,
});
void elector.run(new AbortController().signal, {
  onStartedLeading: async () => {
    await startInProcessOperator({
      kc,
      namespace: args.namespace,
      provisioning: standInAccountController({ ...args, kc, stateKc, log }),
      checkModels: async () => ({
        outcome: "Valid",
        message: "checked",
        models: [{ name: "gpt-4o", available: true }],
        openAICompatible: true,
        jsonMode: true,
      }),
      logLevel: "info",
    });
    process.stdout.write("leading\n");
  },
  // As main.ts does: a leader that lost its Lease exits at once.
  onStoppedLeading: () => process.exit(1),
});
