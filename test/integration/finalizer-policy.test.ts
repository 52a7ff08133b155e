// The install's finalizer policy (cdk8s/finalizer-policy.ts) on the real API server: a ProviderConnection created
// in a bound namespace carries the operator's finalizer from its creation, others' finalizers kept; the operator
// then syncs it without a metadata write of its own, and a deletion still ends (the policy never sees updates).
// Bound to this file's namespace only: the control plane is shared with the other test files.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finalizerPolicyManifest } from "../../cdk8s/install.ts";
import { API_VERSION, GROUP, type ProviderConnection, VERSION } from "../../crds/index.ts";
import { FINALIZER } from "../../operator/constants.ts";
import { testCluster } from "../support/cluster.ts";
import { type InProcessOperator, startInProcessOperator } from "../support/in-process-operator.ts";
import { type FaultProxy, startFaultProxy } from "../support/kube-fault-proxy.ts";
import { answersValid } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";
import {
  type AppWithOwner,
  createConnection,
  createOrganization,
  deleteConnection,
  getConnection,
  putSecret,
  startAppWithOwner,
} from "../support/world.ts";

let world: AppWithOwner;
let proxy: FaultProxy;
let operator: InProcessOperator;
let bound: string;
let unbound: string;
let policy: string;

const SPEC = {
  organizationRef: { name: "org" },
  provider: "Custom",
  custom: {
    name: "m",
    endpoint: "http://models.internal/v1",
    apiKeySecretRef: { name: "cred", key: "api-key" },
  },
};

/** What the API server would store for a create, admission included, without storing it (dry run). */
async function admitted(namespace: string, name: string, finalizers?: string[]) {
  const created = (await testCluster().custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: "providerconnections",
    dryRun: "All",
    body: {
      apiVersion: API_VERSION,
      kind: "ProviderConnection",
      metadata: { name, namespace, ...(finalizers ? { finalizers } : {}) },
      spec: SPEC,
    },
  })) as ProviderConnection;
  return created.metadata.finalizers;
}

/** The connection as the API server has it now (it must exist). */
async function live(name: string): Promise<ProviderConnection> {
  const found = await getConnection(bound, name);
  if (!found) throw new Error(`ProviderConnection ${bound}/${name} does not exist`);
  return found;
}

/** The operator's `modelkeys_connection_finalizer_writes_total` for `action`. */
async function finalizerWrites(action: "added" | "removed"): Promise<number> {
  const text = await operator.metrics.render();
  const line = new RegExp(
    `^modelkeys_connection_finalizer_writes_total\\{action="${action}"\\} (\\d+)$`,
    "m",
  );
  const value = text.match(line)?.[1];
  if (value === undefined) throw new Error(`no ${action} series in the operator's metrics`);
  return Number(value);
}

beforeAll(async () => {
  const cluster = testCluster();
  await cluster.installOperatorRbac();
  bound = await cluster.createTestNamespace("finalizer-policy");
  unbound = await cluster.createTestNamespace("finalizer-policy-unbound");
  policy = finalizerPolicyManifest("v1beta1", [bound]);
  const applied = await cluster.kubectl(["apply", "--server-side", "-f", "-"], { input: policy });
  if (applied.code !== 0) throw new Error(`the finalizer policy was refused: ${applied.stderr}`);
  // The API server loads policies from its own watch: wait until creates in the namespace see it.
  await waitFor(async () => (await admitted(bound, "probe"))?.includes(FINALIZER) ?? false, {
    description: "the policy in force",
  });
  world = await startAppWithOwner();
  await createOrganization(bound, "org", world.app.url, world.token);
  await putSecret(bound, "cred", { "api-key": "k" });
  proxy = await startFaultProxy(cluster.operator.kubeConfig);
  operator = await startInProcessOperator({
    kc: proxy.kube,
    namespace: bound,
    checkModels: answersValid("m"),
  });
});

afterAll(async () => {
  await operator?.stop();
  await proxy?.close();
  await world?.app.stop();
  if (policy) await testCluster().kubectl(["delete", "--ignore-not-found", "-f", "-"], { input: policy });
});

describe("the finalizer policy", () => {
  it("adds the finalizer at creation, after the finalizers others put there, and only once", async () => {
    expect(await admitted(bound, "plain")).toEqual([FINALIZER]);
    expect(await admitted(bound, "shared", ["example.com/keep"])).toEqual(["example.com/keep", FINALIZER]);
    expect(await admitted(bound, "already", [FINALIZER, "example.com/keep"])).toEqual([
      FINALIZER,
      "example.com/keep",
    ]);
  });

  it("leaves namespaces outside its binding alone", async () => {
    expect(await admitted(unbound, "plain")).toBeUndefined();
  });

  it("owns nothing a GitOps tool's server-side apply could take back: re-applying the manifest keeps the finalizer", async () => {
    const manifest = (label: string) =>
      JSON.stringify({
        apiVersion: API_VERSION,
        kind: "ProviderConnection",
        metadata: { name: "applied", namespace: bound, labels: { revision: label } },
        spec: {
          ...SPEC,
          custom: { ...SPEC.custom, name: "unsynced-model" },
          organizationRef: { name: "none" },
        },
      });
    const apply = async (label: string) => {
      const result = await testCluster().kubectl(
        ["apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-"],
        { input: manifest(label) },
      );
      if (result.code !== 0) throw new Error(result.stderr);
    };
    await apply("1");
    expect((await live("applied")).metadata.finalizers).toEqual([FINALIZER]);
    // The admission's change is recorded for no manager, so the applier's next apply, which never lists
    // finalizers, leaves it in place.
    await apply("2");
    const after = await live("applied");
    expect(after.metadata.labels?.revision).toBe("2");
    expect(after.metadata.finalizers).toEqual([FINALIZER]);
  });

  it("lets the operator sync a new connection with its status as the only write to the object", async () => {
    await createConnection(bound, "first", SPEC);
    const synced = await waitFor(
      async () => {
        const c = await live("first");
        return c.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ? c : undefined;
      },
      { description: "Ready=True" },
    );
    expect(synced.metadata.finalizers).toEqual([FINALIZER]);
    expect(world.app.state.getConnection(synced.status?.appConnectionId as number)).toBeDefined();
    const writes = proxy.requests.filter(
      (r) => /^(PATCH|PUT|POST|DELETE) /.test(r) && r.includes("/providerconnections/first"),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((r) => r.split("?")[0]?.endsWith("/first/status"))).toBe(true);
    // What tells an SRE that the policy is in force.
    expect(await finalizerWrites("added")).toBe(0);
  });

  it("does not hold a deletion: the operator's finalizer removal is an update the policy never sees", async () => {
    const id = (await live("first")).status?.appConnectionId as number;
    await deleteConnection(bound, "first");
    await waitFor(async () => (await getConnection(bound, "first")) === undefined, {
      description: "the connection gone",
    });
    expect(world.app.state.getConnection(id)).toBeUndefined();
    // The object can be gone a moment before the operator has read the answer to its write.
    await waitFor(async () => (await finalizerWrites("removed")) > 0, { description: "the removal counted" });
    expect(await finalizerWrites("removed")).toBe(1);
  });
});
