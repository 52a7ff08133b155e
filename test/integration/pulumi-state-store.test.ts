// The Kubernetes state store on its own, as the operator's identity under the install's RBAC: a stack's
// Lease makes lockers take turns, an expired Lease is taken over and its old holder's late write is refused
// (fencing), and a Secret of another kind under the state's name is never overwritten.
import { beforeAll, describe, expect, it } from "vitest";
import { LockLostError } from "../../operator/azure/state-store.ts";
import {
  CHECKPOINT_KEY,
  decodeCheckpoint,
  KubernetesStateStore,
  type LeaseTiming,
  stateObjectName,
} from "../../operator/pulumi-state/index.ts";
import { testCluster } from "../support/cluster.ts";
import { waitFor } from "../support/wait.ts";

let namespace: string;

function store(identity: string, timing: Partial<LeaseTiming> = {}) {
  return new KubernetesStateStore({
    kc: testCluster().operator.kubeConfig,
    identity,
    timing: { leaseDurationMs: 2000, renewIntervalMs: 500, retryPeriodMs: 100, ...timing },
  });
}

const checkpoint = (n: number) => ({ version: 3, deployment: { resources: [], n } });

async function stored(stack: string) {
  const secret = await testCluster().core.readNamespacedSecret({ namespace, name: stateObjectName(stack) });
  return decodeCheckpoint(Buffer.from(secret.data?.[CHECKPOINT_KEY] ?? "", "base64"));
}

describe("the Kubernetes state store", () => {
  beforeAll(async () => {
    await testCluster().installOperatorRbac();
    namespace = await testCluster().createTestNamespace("state-store");
  });

  it("lets lockers of one stack take turns; a released Lease is taken at once", async () => {
    const key = { namespace, stack: "rg.turns-00000001" };
    const first = await store("first").lock(key);
    await first.save(checkpoint(1));
    const order: string[] = [];
    const second = store("second")
      .lock(key)
      .then((held) => {
        order.push("second locked");
        return held;
      });
    // Held and renewed past its duration (the renewals move renewTime) while the second locker waits.
    await waitFor(
      async () => {
        const lease = await testCluster().coordination.readNamespacedLease({
          namespace,
          name: stateObjectName(key.stack),
        });
        const held = Date.parse(String(lease.spec?.renewTime)) - Date.parse(String(lease.spec?.acquireTime));
        return lease.spec?.holderIdentity?.startsWith("first-") && held > 2500;
      },
      { timeoutMs: 20_000, description: "the first holder renewing past the Lease's duration" },
    );
    order.push("first releases");
    await first.release();
    const held = await second;
    expect(order).toEqual(["first releases", "second locked"]);
    expect(await held.load()).toEqual(checkpoint(1));
    await held.remove();
    await held.release();
    const secrets = await testCluster().core.listNamespacedSecret({ namespace });
    expect(secrets.items.map((s) => s.metadata?.name)).not.toContain(stateObjectName(key.stack));
  });

  it("queues two users of one store (one identity) in the process", async () => {
    const key = { namespace, stack: "rg.shared-00000005" };
    const shared = store("shared");
    const order: string[] = [];
    const first = await shared.lock(key);
    const second = shared.lock(key).then((held) => {
      order.push("second locked");
      return held;
    });
    await first.save(checkpoint(1));
    order.push("first releases");
    await first.release();
    const held = await second;
    expect(order).toEqual(["first releases", "second locked"]);
    expect(await held.load()).toEqual(checkpoint(1));
    await held.release();
  });

  it("takes an expired Lease over and refuses the old holder's late write", async () => {
    const key = { namespace, stack: "rg.fenced-00000002" };
    // The old holder never renews (a process paused, or cut off from the API server).
    const old = await store("old", { renewIntervalMs: 60_000 }).lock(key);
    await old.save(checkpoint(1));
    const successor = await store("successor").lock(key);
    expect(await successor.load()).toEqual(checkpoint(1));
    await expect(old.save(checkpoint(2))).rejects.toBeInstanceOf(LockLostError);
    await successor.save(checkpoint(3));
    expect(await stored(key.stack)).toEqual(checkpoint(3));
    const lease = await testCluster().coordination.readNamespacedLease({
      namespace,
      name: stateObjectName(key.stack),
    });
    expect(lease.spec?.holderIdentity).toMatch(/^successor-/);
    expect(lease.spec?.leaseTransitions).toBe(1);
    await successor.release();
    await old.release();
  });

  it("tells the holder its Lease is lost when another takes it, and then refuses its writes", async () => {
    const key = { namespace, stack: "rg.lost-00000004" };
    const held = await store("renewing").lock(key);
    await held.save(checkpoint(1));
    const name = stateObjectName(key.stack);
    const lease = await testCluster().coordination.readNamespacedLease({ namespace, name });
    // Someone else holds it now (as after a takeover this holder did not see coming).
    await testCluster().coordination.replaceNamespacedLease({
      namespace,
      name,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "intruder" } },
    });
    await waitFor(() => held.lost.aborted, { timeoutMs: 10_000, description: "the lost signal" });
    expect(String(held.lost.reason)).toMatch(/was taken over/);
    await expect(held.save(checkpoint(2))).rejects.toBeInstanceOf(LockLostError);
    expect(await stored(key.stack)).toEqual(checkpoint(1));
    await held.release();
    // The release leaves the intruder's Lease in place.
    const after = await testCluster().coordination.readNamespacedLease({ namespace, name });
    expect(after.spec?.holderIdentity).toBe("intruder");
  });

  it("leaves a Secret of another type under the state's name alone", async () => {
    const key = { namespace, stack: "rg.taken-00000003" };
    await testCluster().core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: stateObjectName(key.stack) }, stringData: { mine: "yes" } },
    });
    const held = await store("careful").lock(key);
    await expect(held.load()).rejects.toThrow(/exists and is not Pulumi state \(type Opaque/);
    await expect(held.save(checkpoint(1))).rejects.toThrow(/is not Pulumi state/);
    await held.release();
    const secret = await testCluster().core.readNamespacedSecret({
      namespace,
      name: stateObjectName(key.stack),
    });
    expect(Buffer.from(secret.data?.mine ?? "", "base64").toString()).toBe("yes");
  });
});
