// The kstatus verdict (sigs.k8s.io/cli-utils, the library Flux and kpt wait on) and the Argo CD health
// (argocd/health.lua run by gopher-lua as Argo CD runs it) of live objects carrying the status the operator
// writes for every reason in the table: healthy → Current/Healthy, under way → InProgress/Progressing,
// waiting on a person → Failed/Degraded. The two tools must agree on every case.
import { join } from "node:path";
import { setHeaderOptions } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP, VERSION } from "../../crds/index.ts";
import { REPO_ROOT } from "../../local/controlplane/controlplane.ts";
import { runToolJson } from "../../local/tools/index.ts";
import { CONDITION, type Reason } from "../../operator/constants.ts";
import { applyConditions, type ConditionIntent } from "../../operator/reconcile/conditions.ts";
import { type Progress, REASON_PROGRESS, withProgress } from "../../operator/reconcile/progress.ts";
import { type TestCluster, testCluster } from "../support/cluster.ts";

interface Verdict {
  kind: string;
  name: string;
  status: string;
  message: string;
}

const KSTATUS: Record<Progress | "Behind", string> = {
  Done: "Current",
  Reconciling: "InProgress",
  Stalled: "Failed",
  Behind: "InProgress",
};
const ARGO: Record<Progress | "Behind", string> = {
  Done: "Healthy",
  Reconciling: "Progressing",
  Stalled: "Degraded",
  Behind: "Progressing",
};

/** One status fixture: the conditions the operator's own code builds, and the verdict the table promises. */
interface Fixture {
  name: string;
  intents: ConditionIntent[];
  expected: Progress | "Behind";
  /** Status written for an older generation (the operator has not seen the latest spec). */
  behind?: boolean;
}

const message = (reason: string) => `a stable message for ${reason}`;
const fixtures: Fixture[] = [
  ...(Object.entries(REASON_PROGRESS) as [Reason, Progress][]).map(([reason, progress]) => ({
    name: `reason-${reason.toLowerCase()}`,
    intents: [
      {
        type: CONDITION.Ready,
        status: progress === "Done" ? ("True" as const) : ("False" as const),
        reason,
        message: message(reason),
      },
    ],
    expected: progress,
  })),
  {
    name: "ready-during-provider-outage",
    intents: [
      { type: CONDITION.Ready, status: "True", reason: "Synced", message: "synced to the app" },
      { type: CONDITION.CredentialsValid, status: "Unknown", reason: "RateLimited", message: "rate limited" },
    ],
    expected: "Reconciling",
  },
  {
    name: "spec-not-yet-seen",
    intents: [{ type: CONDITION.Ready, status: "True", reason: "Synced", message: "synced to the app" }],
    expected: "Behind",
    behind: true,
  },
];

const KINDS = [
  {
    kind: "Organization",
    plural: "organizations",
    spec: { url: "https://label-studio.acme.internal", tokenSecretRef: { name: "ls", key: "token" } },
  },
  {
    kind: "ProviderConnection",
    plural: "providerconnections",
    spec: {
      organizationRef: { name: "acme" },
      provider: "OpenAI",
      openAI: { apiKeySecretRef: { name: "openai", key: "api-key" } },
    },
  },
] as const;

/** An object created with no status written: what kstatus and Argo CD see before the first reconcile. */
const NOT_YET_RECONCILED = "not-yet-reconciled";

let cluster: TestCluster;
let namespace: string;
const live: Record<string, unknown[]> = {};

beforeAll(async () => {
  cluster = testCluster();
  await cluster.installOperatorRbac();
  namespace = await cluster.createTestNamespace("kstatus-health");
  const now = new Date();
  for (const { kind, plural, spec } of KINDS) {
    for (const fixture of fixtures) {
      const target = { group: GROUP, version: VERSION, namespace, plural };
      const created = (await cluster.custom.createNamespacedCustomObject({
        ...target,
        body: { apiVersion: API_VERSION, kind, metadata: { name: fixture.name }, spec },
      })) as { metadata: { generation: number } };
      const generation = created.metadata.generation;
      const seen = fixture.behind ? generation - 1 : generation;
      const conditions = withProgress(applyConditions([], fixture.intents, seen, now), seen, now);
      await cluster.custom.patchNamespacedCustomObjectStatus(
        { ...target, name: fixture.name, body: { status: { observedGeneration: seen, conditions } } },
        setHeaderOptions("Content-Type", "application/merge-patch+json"),
      );
    }
    // A new object no operator has reconciled: the CRD's default status already says Reconciling.
    await cluster.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      body: { apiVersion: API_VERSION, kind, metadata: { name: NOT_YET_RECONCILED }, spec },
    });
    const list = (await cluster.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
    })) as { items: unknown[] };
    live[kind] = list.items;
  }
});

describe.each(KINDS.map((k) => k.kind))("%s", (kind) => {
  let kstatus: Map<string, Verdict>;
  let argo: Map<string, Verdict>;
  beforeAll(async () => {
    const input = JSON.stringify({ apiVersion: "v1", kind: "List", items: live[kind] });
    const byName = (verdicts: Verdict[]) => new Map(verdicts.map((v) => [v.name, v]));
    kstatus = byName(await runToolJson<Verdict[]>("kstatus", [], input));
    argo = byName(
      await runToolJson<Verdict[]>("argo-health", [join(REPO_ROOT, "argocd", "health.lua")], input),
    );
  });

  it("a new object, before any reconcile, is InProgress to kstatus and Progressing to Argo CD", () => {
    expect(kstatus.get(NOT_YET_RECONCILED)).toMatchObject({
      status: "InProgress",
      message: "waiting for the operator's first reconcile",
    });
    expect(argo.get(NOT_YET_RECONCILED)?.status).toBe("Progressing");
  });

  it.each(fixtures.map((f) => [f.name, f.expected] as const))(
    "%s → %s: kstatus and Argo CD agree",
    (name, expected) => {
      expect(kstatus.get(name)?.status).toBe(KSTATUS[expected]);
      expect(argo.get(name)?.status).toBe(ARGO[expected]);
      // Both say why, in the operator's words.
      const reason = fixtures.find((f) => f.name === name)?.intents.find((i) => i.type === CONDITION.Ready);
      if (expected === "Reconciling" || expected === "Stalled") {
        const why = kstatus.get(name)?.message ?? "";
        expect(why.length).toBeGreaterThan(0);
        expect(argo.get(name)?.message).toContain(why);
      }
      if (expected === "Done") expect(argo.get(name)?.message).toBe(reason?.message);
    },
  );
});
