// API Priority and Fairness for the operator's leader election: a FlowSchema that puts its Lease requests at the
// built-in `leader-election` priority level, as the cluster's own controllers' are. Without it they share the
// `workload-low` level with every service account's traffic, the operator's reconciles included, so a busy
// cluster could queue or reject (429) a renewal until the renew deadline passes and the replica stops leading.
import { ApiObject } from "cdk8s";
import { Construct } from "constructs";
import { INSTALL } from "./names.ts";

/**
 * Before `service-accounts` (9000) and with the cluster's own leader-election schemas (system-leader-election is
 * 100, workload-leader-election 200), which match other users, so no tie with them.
 */
const MATCHING_PRECEDENCE = 200;

/**
 * The FlowSchema `modelkeys-leader-election`: the operator's ServiceAccount reading, creating and renewing Leases
 * in its own namespace (the leader-election Lease; the Pulumi state locks live in accounts' namespaces and keep
 * the default level). A cluster without the `leader-election` priority level ignores it (status Dangling), and
 * one without priority and fairness ignores FlowSchemas altogether. Needs flowcontrol.apiserver.k8s.io/v1
 * (Kubernetes 1.29 and later).
 */
export class LeasePriority extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new ApiObject(this, "flow-schema", {
      apiVersion: "flowcontrol.apiserver.k8s.io/v1",
      kind: "FlowSchema",
      metadata: { name: INSTALL.leaseFlowSchema },
      spec: {
        priorityLevelConfiguration: { name: "leader-election" },
        matchingPrecedence: MATCHING_PRECEDENCE,
        distinguisherMethod: { type: "ByUser" },
        rules: [
          {
            subjects: [
              {
                kind: "ServiceAccount",
                serviceAccount: { name: INSTALL.serviceAccount, namespace: INSTALL.namespace },
              },
            ],
            resourceRules: [
              {
                verbs: ["get", "create", "update"],
                apiGroups: ["coordination.k8s.io"],
                resources: ["leases"],
                namespaces: [INSTALL.namespace],
              },
            ],
          },
        ],
      },
    });
  }
}
