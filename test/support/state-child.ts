// A provisioner in a process of its own for the kill test: `up` of one account whose state is kept in the
// cluster, with the stand-in program; killed by the test mid-update. Arguments come as JSON in STATE_CHILD.
import { KubeConfig } from "@kubernetes/client-node";
import { PulumiAutomationProvisioner } from "../../operator/azure/automation.ts";
import { KubernetesStateStore } from "../../operator/pulumi-state/index.ts";
import {
  engineOptions,
  standInPendingCreateId,
  standInProgram,
  stateAccount,
  stateCredentials,
  stateDeployment,
} from "./state-program.ts";

const args = JSON.parse(process.env.STATE_CHILD ?? "{}") as {
  kubeconfig: string;
  namespace: string;
  base: string;
  world: string;
  account: string;
  deployments: string[];
  leaseDurationMs: number;
};
const kc = new KubeConfig();
kc.loadFromFile(args.kubeconfig);
const store = new KubernetesStateStore({
  kc,
  identity: "child",
  timing: { leaseDurationMs: args.leaseDurationMs, renewIntervalMs: 500, retryPeriodMs: 200 },
});
const provisioner = new PulumiAutomationProvisioner({
  ...engineOptions(args.base),
  state: {
    store,
    namespace: args.namespace,
    mirrorIntervalMs: 200,
    pendingCreateId: () => standInPendingCreateId,
  },
  program: standInProgram({ dir: args.world }),
});
const result = await provisioner.up(
  stateAccount(args.account, args.namespace),
  args.deployments.map((d) => stateDeployment(d)),
  stateCredentials,
);
process.stdout.write(`${JSON.stringify(result.deploymentNames)}\n`);
