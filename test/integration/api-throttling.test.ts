// The operator's API server client against a real API server whose own in-flight limits are far below ours
// (--max-requests-inflight=1 and --max-mutating-requests-inflight=1 with priority and fairness off: the classic
// limiter answers 429 at once to a request over the limit). The client must send fewer requests at once instead
// of meeting the same 429s again, land every write, and go back to its bound once the server keeps up.
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  OPERATOR_IDENTITY,
  startControlPlane,
} from "../../local/controlplane/controlplane.ts";
import { isStatus, KubeClient, PATCH } from "../../operator/kube/client.ts";
import { loadClusterAccess } from "../../operator/kube/kubeconfig.ts";
import { RenewalPriority } from "../../operator/kube/renewal-priority.ts";
import { apiServerTransport, dedicatedConnections } from "../../operator/kube/transport.ts";
import { createLeaderElector } from "../../operator/leader.ts";
import { waitFor } from "../support/wait.ts";

const work = mkdtempSync(join(tmpdir(), "modelkeys-throttling-"));
const namespace = "throttled";
let controlPlane: ControlPlane;
let operatorIdentity: KubeClient;

beforeAll(async () => {
  controlPlane = await startControlPlane({
    logDir: join(work, "logs"),
    kubeconfigPath: join(work, "kubeconfig"),
    operatorKubeconfigPath: join(work, "operator-kubeconfig"),
    apiServerArgs: [
      "--enable-priority-and-fairness=false",
      "--max-requests-inflight=1",
      "--max-mutating-requests-inflight=1",
    ],
  });
  // system:masters is exempt from the in-flight limits: the requests under test go as the operator's identity,
  // allowed to read and patch ConfigMaps and to hold Leases here.
  const admin = new KubeClient(loadClusterAccess({ file: controlPlane.kubeconfigPath }));
  await admin.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  // A Role of its own: the built-in edit role is aggregated by kube-controller-manager, which does not run here.
  await admin.request("POST", `${rbac}/roles`, {
    body: {
      metadata: { name: "configmaps" },
      rules: [
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "patch"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
      ],
    },
  });
  await admin.request("POST", `${rbac}/rolebindings`, {
    body: {
      metadata: { name: "operator-edits" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmaps" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: OPERATOR_IDENTITY.user }],
    },
  });
  await admin.request("POST", `/api/v1/namespaces/${namespace}/configmaps`, {
    body: { metadata: { name: "target" } },
  });
  operatorIdentity = new KubeClient(loadClusterAccess({ file: controlPlane.operatorKubeconfigPath }));
  // The authorizer sees the binding through its own watch.
  await waitFor(
    () =>
      operatorIdentity.request("GET", `/api/v1/namespaces/${namespace}/configmaps/target`).then(
        () => true,
        () => false,
      ),
    { description: "the operator's identity allowed to read the ConfigMap" },
  );
}, 180_000);

afterAll(async () => {
  await controlPlane?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("the API server transport against an API server that throttles", () => {
  it("sends fewer requests at once while it answers 429, lands every write, then goes back to its bound", async () => {
    let throttled = 0;
    const limits: number[] = [];
    const kc = apiServerTransport(operatorIdentity, {
      qps: 0,
      burst: 1,
      maxInFlight: 32,
      onThrottled: () => throttled++,
      onInFlightLimit: (limit) => limits.push(limit),
    });
    const path = `/api/v1/namespaces/${namespace}/configmaps/target`;
    const writes = 200;
    // All at once, as a bulk create's reconciles would: 32 go out, the server takes one at a time.
    await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        kc.request("PATCH", path, { body: { data: { [`k${i}`]: String(i) } }, contentType: PATCH.merge }),
      ),
    );
    const stored = await kc.request<{ data: Record<string, string> }>("GET", path);
    expect(Object.keys(stored.data)).toHaveLength(writes);

    // The server did throttle, and the client came down to what it takes instead of repeating 31 collisions.
    expect(throttled).toBeGreaterThan(0);
    expect(Math.min(...limits)).toBeLessThanOrEqual(2);
    // With the bound fixed at 32, each round of 32 met 31 429s (a write's five repeats spent, it failed).
    expect(throttled).toBeLessThan(writes / 2);

    // One request at a time meets no limit: the bound doubles back to 32 after each quiet second.
    await waitFor(
      async () => {
        await kc.request("GET", path);
        return limits.at(-1) === 32;
      },
      { timeoutMs: 30_000, intervalMs: 50, description: "the bound back at 32" },
    );
  });

  it("keeps the Lease while its own reconciles take all the room the API server has", async () => {
    const priority = new RenewalPriority();
    const kc = apiServerTransport(operatorIdentity, {
      qps: 0,
      burst: 1,
      maxInFlight: 32,
      renewalPriority: priority,
    });
    const elector = createLeaderElector({
      kc: dedicatedConnections(operatorIdentity),
      namespace,
      name: "busy-leader",
      identity: "me",
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 400,
      during: (attempt) => priority.during(attempt),
    });
    let stopped = 0;
    const stop = new AbortController();
    const running = elector.run(stop.signal, {
      onStartedLeading: () => undefined,
      onStoppedLeading: () => void stopped++,
    });
    // Reconciles that always have the next write ready: the server's one place for writes is never free for long.
    // A write still throttled after its repeats is what a reconcile backs off on and retries: so do these.
    let busy = true;
    let writes = 0;
    const path = `/api/v1/namespaces/${namespace}/configmaps/target`;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      while (busy) {
        await kc
          .request("PATCH", path, {
            body: { data: { [`w${w}`]: String(writes++) } },
            contentType: PATCH.merge,
          })
          .catch((error: unknown) => {
            if (!isStatus(error, 429)) throw error;
          });
      }
    });
    try {
      await waitFor(() => elector.isLeader(), { description: "leadership" });
      const renewTimes = new Set<string>();
      await waitFor(
        async () => {
          const lease = await operatorIdentity.request<{ spec?: { renewTime?: string } }>(
            "GET",
            `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/busy-leader`,
          );
          renewTimes.add(String(lease.spec?.renewTime));
          return renewTimes.size >= 15;
        },
        { timeoutMs: 30_000, intervalMs: 200, description: "15 renewals while the writes go on" },
      );
      expect(elector.isLeader()).toBe(true);
      expect(stopped).toBe(0);
      // The writes went on meanwhile: the renewals held them back for moments only.
      expect(writes).toBeGreaterThan(100);
    } finally {
      busy = false;
      await Promise.all(workers);
      stop.abort();
      await running;
    }
  });
});
