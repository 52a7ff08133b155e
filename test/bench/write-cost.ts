// Benchmark: what each API request of a created connection costs the control plane (etcd + kube-apiserver CPU),
// as the operator's identity against a control plane of its own (audit log on, as in `scale`): the Secret read
// (the bare script's quorum read; the operator's, at a version its watch saw), the finalizer write, the
// operator's first status and the bare script's one-condition status; then, in alternating blocks, the operator's
// status with conditions as an atomic list (as installed) against a list-map keyed by type (a copy of the CRD);
// and a create under the install's finalizer policy against a create and the finalizer patch without it.
// On 2 shared cores the scale benchmark's ratio follows total CPU, so these figures bound it from below.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { finalizerPolicyManifest } from "../../cdk8s/install.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { FIELD_MANAGER, FINALIZER } from "../../operator/constants.ts";
import { PATCH } from "../../operator/kube/client.ts";
import { apiServerTransport } from "../../operator/kube/transport.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import { waitFor } from "../support/wait.ts";
import { applied, connection, NOW, observe } from "../unit/fixtures/connection.ts";
import { type BenchCluster, finalizerPolicyInForce, startBenchCluster } from "./cluster.ts";
import { type CustomTarget, createCustomConnection, customConnectionRequest, inParallel } from "./fleet.ts";
import { type Bench, type Measurement, round } from "./measure.ts";
import { bareStatus, validCustomCheck } from "./reference-scripts.ts";

/** Requests of each kind (MODELKEYS_BENCH_WRITES): enough for the CPU clock's 10 ms ticks to average out. */
const REQUESTS = Number(process.env.MODELKEYS_BENCH_WRITES ?? 1000);
/** As the operator's workers and the bare script. */
const CONCURRENCY = 4;
const GROUP_PATH = "/apis/modelkeys.dev/v1alpha1";

/** The status the operator writes after a Custom connection's first sync (its own pure code computes it). */
function operatorFirstStatus() {
  const first = observe(connection({ provider: "Custom" }), { modelCheck: validCustomCheck("llama3.1:8b") });
  const plan = planConnection(first);
  const { result } = applied(plan, undefined, { updatedAt: NOW.toISOString() });
  return nextStatus(first.connection, plan, result, NOW);
}

const BARE_STATUS = bareStatus(1, NOW);

/** What every connection here names (the server is never reached: nothing here runs a model check). */
const TARGET: CustomTarget = {
  model: "llama3.1:8b",
  endpoint: "http://127.0.0.1:11434/v1",
  secret: { name: "llm", key: "key" },
};

export const writeCost: Bench<undefined> = {
  name: "write-cost",
  description: `control-plane CPU per request of a created connection (${REQUESTS} of each, 4 at a time)`,
  async run() {
    const cluster = await startBenchCluster({ auditLog: true });
    try {
      return await measure(cluster);
    } finally {
      await cluster.stop();
    }
  },
};

async function measure(cluster: BenchCluster) {
  const namespace = await cluster.createNamespace("write-cost");
  const kube = apiServerTransport(cluster.operatorKc, { qps: 0, burst: 1 });
  const connections = `${GROUP_PATH}/namespaces/${namespace}/providerconnections`;
  await cluster.admin.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: "llm" }, stringData: { key: randomBytes(16).toString("hex") } },
  });
  // Fresh connections for each status: the operator's writes, the bare script's, the trimmed status's.
  const names = (set: string) => Array.from({ length: REQUESTS }, (_, i) => `${set}-${i}`);
  const fresh = [...names("op"), ...names("bare"), ...names("trim")];
  await inParallel(fresh.length, 32, (i) =>
    createCustomConnection(cluster.admin.custom, namespace, fresh[i] as string, TARGET),
  );

  const status = operatorFirstStatus();
  const patch = (path: string, body: unknown, fieldManager?: string) =>
    kube.request("PATCH", path, {
      contentType: PATCH.merge,
      body,
      ...(fieldManager ? { query: { fieldManager } } : {}),
    });
  const cost = (work: (name: string) => Promise<unknown>, set: string) =>
    controlPlaneMsPerRequest(cluster, names(set), work);

  const secretPath = `/api/v1/namespaces/${namespace}/secrets/llm`;
  // The bare script's read: a quorum read from etcd.
  const secretRead = await cost(() => kube.request("GET", secretPath), "op");
  // The operator's: at the version its Secret watch saw, answered from the API server's watch cache.
  const seen = (await kube.request<{ metadata: { resourceVersion: string } }>("GET", secretPath)).metadata
    .resourceVersion;
  const cachedSecretRead = await cost(
    () => kube.request("GET", secretPath, { query: { resourceVersion: seen } }),
    "op",
  );
  const finalizer = await cost(
    (name) => patch(`${connections}/${name}`, { metadata: { finalizers: [FINALIZER] } }, FIELD_MANAGER),
    "op",
  );
  const operatorStatus = await cost(
    (name) => patch(`${connections}/${name}/status`, { status }, FIELD_MANAGER),
    "op",
  );
  const bareStatus = await cost(
    (name) => patch(`${connections}/${name}/status`, { status: BARE_STATUS }),
    "bare",
  );
  // A lever, not what the operator writes: kstatus reads an absent Reconciling or Stalled as False.
  const trimmed = {
    ...status,
    conditions: status.conditions?.filter(
      (c) => !((c.type === "Reconciling" || c.type === "Stalled") && c.status === "False"),
    ),
  };
  const trimmedStatus = await cost(
    (name) => patch(`${connections}/${name}/status`, { status: trimmed }, FIELD_MANAGER),
    "trim",
  );

  const listType = await conditionsListType(cluster, namespace, status);
  const policy = await finalizerPolicyCost(cluster);

  const operatorTotal = cachedSecretRead + finalizer + operatorStatus;
  const policyTotal = cachedSecretRead + operatorStatus;
  const bareTotal = secretRead + bareStatus;
  const m = (name: string, value: number, unit = "ms"): Measurement => ({ name, value: round(value), unit });
  return {
    measurements: [
      m("GET Secret (quorum read: the bare script's)", secretRead),
      m("GET Secret at a watched resourceVersion (the operator's)", cachedSecretRead),
      m("PATCH finalizer (fresh object)", finalizer),
      m(`PATCH status, the operator's (${status.conditions?.length ?? 0} conditions)`, operatorStatus),
      m("PATCH status, the bare script's (1 condition)", bareStatus),
      m(
        `PATCH status, the operator's without Reconciling/Stalled False (${trimmed.conditions?.length ?? 0} conditions)`,
        trimmedStatus,
      ),
      m("per created object: the operator's requests", operatorTotal),
      m("per created object: the bare script's requests", bareTotal),
      m("ratio of the two (control plane only)", operatorTotal / bareTotal, "×"),
      m("per created object: the operator's, under the finalizer policy (no finalizer patch)", policyTotal),
      m("ratio of that to the bare script's (control plane only)", policyTotal / bareTotal, "×"),
      m("PATCH status, the operator's, conditions atomic (A/B, as admin)", listType.atomic),
      m("PATCH status, the operator's, conditions a list-map (A/B, as admin)", listType.map),
      m("POST connection, under the finalizer policy (A/B, as admin)", policy.createdWithPolicy),
      m("POST connection, no policy (A/B, as admin)", policy.createdPlain),
      m("PATCH finalizer after that POST (A/B, as admin)", policy.finalizerPatch),
      m(
        "the policy's saving per created connection",
        policy.createdPlain + policy.finalizerPatch - policy.createdWithPolicy,
      ),
    ],
    details: {
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      operatorStatusBytes: JSON.stringify(status).length,
      bareStatusBytes: JSON.stringify(BARE_STATUS).length,
    },
  };
}

/** Status writes per block of the list-type A/B: blocks alternate, so drift in the control plane's speed hits both. */
const AB_BLOCK = 100;

/**
 * The operator's first status on the CRD as installed (conditions an atomic list) against the same status on a
 * copy of the CRD under another group whose conditions are a list-map keyed by type (the convention before):
 * control-plane CPU per status write, in alternating blocks of fresh objects, each with its finalizer first as
 * the operator writes it. As admin on both sides (the copy has no RBAC for the operator's identity).
 */
async function conditionsListType(
  cluster: BenchCluster,
  namespace: string,
  status: unknown,
): Promise<{ atomic: number; map: number }> {
  const copy = parse(await readFile(join(REPO_ROOT, "crds/modelkeys.dev_providerconnections.yaml"), "utf8"));
  copy.metadata.name = "providerconnections.listmap.modelkeys.dev";
  copy.spec.group = "listmap.modelkeys.dev";
  const conditions = copy.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.conditions;
  conditions["x-kubernetes-list-type"] = "map";
  conditions["x-kubernetes-list-map-keys"] = ["type"];
  const admin = cluster.admin.kube;
  await admin.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", { body: copy });
  const groups = { atomic: "modelkeys.dev", map: "listmap.modelkeys.dev" } as const;
  const collection = (group: string) => `/apis/${group}/v1alpha1/namespaces/${namespace}/providerconnections`;
  // The copy is served once its discovery is in place: wait for its collection to answer.
  await waitFor(() => admin.request("GET", collection(groups.map)).then(() => true), {
    intervalMs: 100,
    description: "the list-map copy of the CRD served",
  });
  const patch = (path: string, body: unknown) =>
    admin.request("PATCH", path, { contentType: PATCH.merge, body, query: { fieldManager: FIELD_MANAGER } });
  const cpuSeconds = { atomic: 0, map: 0 };
  let serial = 0;
  for (let block = 0; block < Math.max(2, Math.round(REQUESTS / AB_BLOCK)); block++) {
    const order = block % 2 === 0 ? (["atomic", "map"] as const) : (["map", "atomic"] as const);
    for (const kind of order) {
      const path = collection(groups[kind]);
      const names = Array.from({ length: AB_BLOCK }, () => `ab-${serial++}`);
      await inParallel(AB_BLOCK, 16, (i) =>
        createCustomConnection(cluster.admin.custom, namespace, names[i] as string, TARGET, {
          group: groups[kind],
        }),
      );
      await inParallel(AB_BLOCK, CONCURRENCY, (i) =>
        patch(`${path}/${names[i]}`, { metadata: { finalizers: [FINALIZER] } }),
      );
      const before = cluster.cpuSeconds();
      await inParallel(AB_BLOCK, CONCURRENCY, (i) => patch(`${path}/${names[i]}/status`, { status }));
      cpuSeconds[kind] += cluster.cpuSeconds() - before;
    }
  }
  const each = serial / 2;
  return { atomic: (cpuSeconds.atomic * 1000) / each, map: (cpuSeconds.map * 1000) / each };
}

/**
 * What the install's finalizer policy costs and saves: control-plane CPU per create of a connection in a
 * namespace the policy is bound to (it gets the finalizer as it is created), against a create in a namespace it
 * is not bound to followed by the finalizer patch the operator then writes; in alternating blocks. As admin, over
 * one pooled client (the creates are a user's, not the operator's).
 */
async function finalizerPolicyCost(cluster: BenchCluster) {
  const admin = cluster.admin.kube;
  const withPolicy = await cluster.createNamespace("wc-policy");
  const plain = await cluster.createNamespace("wc-plain");
  await cluster.apply(finalizerPolicyManifest("v1beta1", [withPolicy]));
  await finalizerPolicyInForce(cluster.admin.custom, withPolicy);
  const collection = (namespace: string) => `${GROUP_PATH}/namespaces/${namespace}/providerconnections`;
  const cpuSeconds = { createdWithPolicy: 0, createdPlain: 0, finalizerPatch: 0 };
  const timed = async (key: keyof typeof cpuSeconds, work: (i: number) => Promise<unknown>) => {
    const before = cluster.cpuSeconds();
    await inParallel(AB_BLOCK, CONCURRENCY, work);
    cpuSeconds[key] += cluster.cpuSeconds() - before;
  };
  let serial = 0;
  for (let block = 0; block < Math.max(2, Math.round(REQUESTS / AB_BLOCK)); block++) {
    const names = Array.from({ length: AB_BLOCK }, () => `p-${serial++}`);
    const create = (namespace: string) => (i: number) =>
      admin.request("POST", collection(namespace), {
        body: customConnectionRequest(namespace, names[i] as string, TARGET).body,
      });
    const sides = [
      () => timed("createdWithPolicy", create(withPolicy)),
      async () => {
        await timed("createdPlain", create(plain));
        await timed("finalizerPatch", (i) =>
          admin.request("PATCH", `${collection(plain)}/${names[i]}`, {
            contentType: PATCH.merge,
            body: { metadata: { finalizers: [FINALIZER] } },
            query: { fieldManager: FIELD_MANAGER },
          }),
        );
      },
    ];
    for (const side of block % 2 === 0 ? sides : sides.reverse()) await side();
  }
  const each = serial;
  return {
    createdWithPolicy: (cpuSeconds.createdWithPolicy * 1000) / each,
    createdPlain: (cpuSeconds.createdPlain * 1000) / each,
    finalizerPatch: (cpuSeconds.finalizerPatch * 1000) / each,
  };
}

/** Control-plane CPU milliseconds per request while `work` runs once per name, 4 at a time. */
async function controlPlaneMsPerRequest(
  cluster: BenchCluster,
  names: string[],
  work: (name: string) => Promise<unknown>,
): Promise<number> {
  const before = cluster.cpuSeconds();
  await inParallel(names.length, CONCURRENCY, (i) => work(names[i] as string));
  return ((cluster.cpuSeconds() - before) * 1000) / names.length;
}
