// The install's FlowSchema, as the API server's priority and fairness applies it: the operator's Lease requests
// are served at the `leader-election` priority level, the rest of its traffic is not. The API server names the
// FlowSchema and the priority level it chose in every answer's X-Kubernetes-PF-* headers.
import { beforeAll, describe, expect, it } from "vitest";
import { INSTALL } from "../../cdk8s/names.ts";
import type { KubeClient } from "../../operator/kube/client.ts";
import { testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

type Classified = { flowSchema?: string; priorityLevel?: string };

/** The operator's identity, noting which FlowSchema and priority level the API server gave each answer. */
function classifying(kc: KubeClient): { kc: KubeClient; last: () => Classified } {
  let last: Classified = {};
  const recording = kc.withDispatcher((base) =>
    base.compose(
      (dispatch) => (opts, handler) =>
        dispatch(opts, {
          ...handler,
          onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
          onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
          onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
          onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
          onResponseStart: (controller, status, headers, message) => {
            const header = (name: string) => {
              const value = headers[name];
              return Array.isArray(value) ? value[0] : value;
            };
            last = {
              flowSchema: header("x-kubernetes-pf-flowschema-uid"),
              priorityLevel: header("x-kubernetes-pf-prioritylevel-uid"),
            };
            handler.onResponseStart?.(controller, status, headers, message);
          },
        }),
    ),
  );
  return { kc: recording, last: () => last };
}

interface FlowControlObject {
  metadata: { uid: string };
  status?: { conditions?: { type: string; status: string }[] };
}

let flowSchemaUid: string;
let leaderElectionUid: string;

beforeAll(async () => {
  await testCluster().installOperatorRbac();
  const admin = testCluster().kube;
  const api = "/apis/flowcontrol.apiserver.k8s.io/v1";
  // The API server's flow-control controller takes the new FlowSchema up and says so in its status.
  const schema = await waitFor(
    async () => {
      const found = await admin.request<FlowControlObject>(
        "GET",
        `${api}/flowschemas/${INSTALL.leaseFlowSchema}`,
      );
      const dangling = found.status?.conditions?.find((c) => c.type === "Dangling");
      return dangling?.status === "False" ? found : undefined;
    },
    { description: "the FlowSchema taken up (Dangling=False)" },
  );
  flowSchemaUid = schema.metadata.uid;
  const level = await admin.request<FlowControlObject>(
    "GET",
    `${api}/prioritylevelconfigurations/leader-election`,
  );
  leaderElectionUid = level.metadata.uid;
});

describe("the Lease's FlowSchema", () => {
  it("serves the operator's Lease requests at the leader-election priority level", async () => {
    const { kc, last } = classifying(testCluster().operator.kube);
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${INSTALL.namespace}/leases`;
    // A Lease that does not exist answers 404, classified like any other read of it.
    await waitFor(
      async () => {
        await kc.request("GET", `${leases}/priority-probe`).catch(() => undefined);
        return last().flowSchema === flowSchemaUid;
      },
      { description: "a Lease read classified by modelkeys-leader-election" },
    );
    expect(last().priorityLevel).toBe(leaderElectionUid);
  });

  it("leaves the operator's other requests where they were", async () => {
    const { kc, last } = classifying(testCluster().operator.kube);
    await kc.request("GET", "/apis/modelkeys.dev/v1alpha1/providerconnections?limit=1");
    expect(last().flowSchema).toBeDefined();
    expect(last().flowSchema).not.toBe(flowSchemaUid);
    expect(last().priorityLevel).not.toBe(leaderElectionUid);
  });

  it("does not match another user's Lease requests", async () => {
    const { kc, last } = classifying(testCluster().kube);
    await kc.request("GET", `/apis/coordination.k8s.io/v1/namespaces/${INSTALL.namespace}/leases`);
    expect(last().flowSchema).toBeDefined();
    expect(last().flowSchema).not.toBe(flowSchemaUid);
  });
});
