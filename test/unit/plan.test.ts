import { describe, expect, it } from "vitest";
import type { Provider, ProviderConnection } from "../../crds/index.ts";
import { ANNOTATIONS, CONDITION, REASON, type Reason } from "../../operator/constants.ts";
import { MODEL_REASON, type ModelAvailability, type ModelCheck } from "../../operator/providers/types.ts";
import { type AppRecordView, desiredFields } from "../../operator/reconcile/app-fields.ts";
import { findCondition } from "../../operator/reconcile/conditions.ts";
import { modelConditions } from "../../operator/reconcile/model-conditions.ts";
import { modelCheckDue } from "../../operator/reconcile/model-schedule.ts";
import { winnerOf as oneConnectionWinner } from "../../operator/reconcile/one-per-organization.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus, statusChanged } from "../../operator/reconcile/status.ts";
import type { AppView, ConnectionPlan, ObservedConnection } from "../../operator/reconcile/types.ts";
import {
  APP_ORG_ID,
  applied,
  appRecord,
  connection,
  FP_A,
  FP_B,
  NOW,
  OPERATOR_USER_ID,
  OTHER_USER_ID,
  observe,
  readyOrganization,
  specFor,
} from "./fixtures/connection.ts";

const PER_ORGANIZATION: Provider[] = ["OpenAI", "Gemini", "VertexAI", "Anthropic"];
const PER_MODEL: Provider[] = ["AzureOpenAI", "AzureAIFoundry", "Custom"];
const ALL: Provider[] = [...PER_ORGANIZATION, ...PER_MODEL];
const LATER = new Date(NOW.getTime() + 10 * 60_000);
const DELETED_AT = "2026-11-20T09:59:00Z";

const models = (available: string[], unavailable: string[] = []): ModelAvailability[] => [
  ...available.map((name) => ({ name, available: true })),
  ...unavailable.map((name) => ({ name, available: false, reason: MODEL_REASON.NotListed })),
];
const validCheck = (names = ["gpt-4o", "gpt-4.1"], extra: Partial<ModelCheck> = {}): ModelCheck => ({
  outcome: "Valid",
  message: "the credential is valid",
  models: models(names),
  ...extra,
});
const condition = (plan: ConnectionPlan, type: string) => plan.conditions.find((c) => c.type === type);
const ready = (plan: ConnectionPlan) => condition(plan, CONDITION.Ready);
const reasons = (plan: ConnectionPlan) => plan.events.map((e) => e.reason);

/** One full reconcile in memory: plan, a simulated app write, the next status; returns the object as it would be. */
function reconcile(observed: ObservedConnection, existing?: AppRecordView) {
  const plan = planConnection(observed);
  const { result, record } = applied(plan, existing, { updatedAt: observed.now.toISOString() });
  const status = nextStatus(observed.connection, plan, result, observed.now);
  const after: ProviderConnection = { ...observed.connection, status };
  return { plan, status, after, record, changed: statusChanged(observed.connection, status) };
}

/** A connection of `provider` synced to the app, with its record, as one real reconcile leaves them. */
function syncedConnection(provider: Provider = "OpenAI", check: ModelCheck = checkFor(provider)) {
  const { after, record } = reconcile(observe(connection({ provider }), { modelCheck: check }));
  if (!record) throw new Error("fixture: the first sync wrote no record");
  return { conn: after, record };
}
function checkFor(provider: Provider): ModelCheck {
  return provider === "Custom"
    ? validCheck(["llama3.1:8b"], { openAICompatible: true, jsonMode: true })
    : validCheck(["gpt-4o", "gpt-4.1"]);
}

describe("finalizer", () => {
  it.each(ALL)("a new %s connection only gets the finalizer", (provider) => {
    const plan = planConnection(observe(connection({ provider, finalizers: [] })));
    expect(plan).toMatchObject({ finalizer: "add", app: { kind: "none" }, conditions: [], events: [] });
  });

  it("adds it even when nothing else is ready (the next reconcile reports why)", () => {
    const plan = planConnection(
      observe(connection({ finalizers: ["other.io/keep"] }), {
        organization: { kind: "NotReady", reason: REASON.OrganizationNotFound, message: "gone" },
        credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "gone" },
      }),
    );
    expect(plan.finalizer).toBe("add");
    expect(plan.app.kind).toBe("none");
  });

  it("a deleting object without the finalizer is left alone", () => {
    const conn = connection({
      finalizers: [],
      deletionTimestamp: DELETED_AT,
      status: { appConnectionId: 17 },
    });
    const plan = planConnection(
      observe(conn, { app: { kind: "ById", record: appRecord({ provider: "OpenAI" }) } }),
    );
    expect(plan).toMatchObject({ finalizer: "keep", app: { kind: "none" }, events: [] });
  });

  it("keeps the finalizer on a live, synced object", () => {
    const { conn, record } = syncedConnection();
    expect(planConnection(observe(conn, { app: { kind: "ById", record } })).finalizer).toBe("keep");
  });
});

describe("deletion", () => {
  const deleting = (
    options: { id?: number; policy?: "Delete" | "Orphan"; annotations?: Record<string, string> } = {},
  ) =>
    connection({
      deletionTimestamp: DELETED_AT,
      spec: { deletionPolicy: options.policy ?? "Delete" },
      ...(options.annotations ? { annotations: options.annotations } : {}),
      status:
        options.id === undefined
          ? { observedGeneration: 1 }
          : { observedGeneration: 1, appConnectionId: options.id },
    });
  const present = { kind: "ById", record: appRecord({ provider: "OpenAI" }, { id: 17 }) } as const;
  const orgGone = {
    kind: "NotReady",
    reason: REASON.OrganizationNotFound,
    message: "Organization acme not found in namespace ml-platform",
  } as const;

  it("Delete: deletes the app record, then removes the finalizer", () => {
    const plan = planConnection(observe(deleting({ id: 17 }), { app: present }));
    expect(plan.app).toEqual({ kind: "delete", id: 17 });
    expect(plan.finalizer).toBe("remove");
    expect(plan.events).toEqual([
      { type: "Normal", reason: "Deleted", message: "deleted app connection 17" },
    ]);
  });

  it("Delete: proceeds although the credential's Secret is already gone", () => {
    const plan = planConnection(
      observe(deleting({ id: 17 }), {
        app: present,
        credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "Secret openai not found" },
      }),
    );
    expect(plan).toMatchObject({ app: { kind: "delete", id: 17 }, finalizer: "remove" });
  });

  it("Orphan: no app call, the finalizer goes", () => {
    const plan = planConnection(observe(deleting({ id: 17, policy: "Orphan" }), { app: present }));
    expect(plan.app).toEqual({ kind: "none" });
    expect(plan.finalizer).toBe("remove");
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Orphaned" }]);
    expect(plan.events[0]?.message).toContain("17");
  });

  it("Orphan: needs no organization either", () => {
    const plan = planConnection(
      observe(deleting({ id: 17, policy: "Orphan" }), { organization: orgGone, app: { kind: "NotRead" } }),
    );
    expect(plan).toMatchObject({ app: { kind: "none" }, finalizer: "remove" });
  });

  it.each([
    ["the organization is ready", readyOrganization()],
    ["the organization is gone", orgGone],
  ] as const)(
    "no app id (never synced) and %s: the finalizer goes without an app call",
    (_case, organization) => {
      const plan = planConnection(observe(deleting(), { organization, app: { kind: "NotRead" } }));
      expect(plan).toMatchObject({ app: { kind: "none" }, finalizer: "remove", events: [] });
    },
  );

  it("the record is already gone from the app: the finalizer goes without an app call", () => {
    const plan = planConnection(observe(deleting({ id: 17 }), { app: { kind: "ById", record: undefined } }));
    expect(plan).toMatchObject({ app: { kind: "none" }, finalizer: "remove" });
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Deleted" }]);
  });

  it.each([
    [REASON.OrganizationNotFound, "Organization acme not found in namespace ml-platform"],
    [REASON.InvalidToken, "the app rejected the token"],
    [REASON.InsufficientRole, "the token's user may not manage connections"],
  ] as const)(
    "organization not usable (%s): blocked, saying why and naming the release annotation",
    (reason, message) => {
      const plan = planConnection(
        observe(deleting({ id: 17 }), {
          organization: { kind: "NotReady", reason, message },
          app: { kind: "NotRead" },
        }),
      );
      expect(plan.app).toEqual({ kind: "none" });
      expect(plan.finalizer).toBe("keep");
      for (const type of [CONDITION.Ready, CONDITION.AppSynced]) {
        const c = condition(plan, type);
        expect(c).toMatchObject({ status: "False", reason });
        expect(c?.message).toContain(message);
        expect(c?.message).toContain("17");
        expect(c?.message).toContain(`${ANNOTATIONS.releaseFinalizer}=true`);
      }
      expect(plan.events).toMatchObject([{ type: "Warning", reason }]);
    },
  );

  it("a blocked deletion warns once, then stays quiet and leaves status as it is", () => {
    const first = reconcile(
      observe(deleting({ id: 17 }), { organization: orgGone, app: { kind: "NotRead" } }),
    );
    expect(first.changed).toBe(true);
    const again = reconcile(
      observe(first.after, { organization: orgGone, app: { kind: "NotRead" }, now: LATER }),
    );
    expect(again.plan.events).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it.each([
    ["with an app id", 17, "app connection 17 was left in place"],
    ["without an app id", undefined, undefined],
  ] as const)("the release annotation drops the finalizer without an app call, %s", (_case, id, left) => {
    const conn = deleting({ id, annotations: { [ANNOTATIONS.releaseFinalizer]: "true" } });
    for (const organization of [readyOrganization(), orgGone]) {
      const plan = planConnection(observe(conn, { organization, app: id ? present : { kind: "NotRead" } }));
      expect(plan).toMatchObject({ app: { kind: "none" }, finalizer: "remove" });
      expect(plan.events).toMatchObject([{ type: "Warning", reason: "FinalizerReleased" }]);
      if (left) expect(plan.events[0]?.message).toContain(left);
    }
  });

  it.each(["false", "", "yes"])("the release annotation set to %j does not release", (value) => {
    const conn = deleting({ id: 17, annotations: { [ANNOTATIONS.releaseFinalizer]: value } });
    expect(planConnection(observe(conn, { organization: orgGone, app: { kind: "NotRead" } })).finalizer).toBe(
      "keep",
    );
    expect(planConnection(observe(conn, { app: present })).app).toEqual({ kind: "delete", id: 17 });
  });

  it("deletion comes first: a deleting duplicate does not report DuplicateProvider", () => {
    const conn = deleting({ id: 17 });
    const siblings = [{ name: "aaa-older", creationTimestamp: "2020-01-01T00:00:00Z" }];
    const plan = planConnection(observe(conn, { siblings, app: present }));
    expect(plan).toMatchObject({ app: { kind: "delete", id: 17 }, finalizer: "remove" });
  });
});

describe("blocked before the app", () => {
  it.each<[string, Partial<ObservedConnection>, Reason]>([
    [
      "organization missing",
      {
        organization: {
          kind: "NotReady",
          reason: REASON.OrganizationNotFound,
          message: "Organization acme not found",
        },
      },
      REASON.OrganizationNotFound,
    ],
    [
      "organization not ready",
      {
        organization: {
          kind: "NotReady",
          reason: REASON.OrganizationNotReady,
          message: "Organization acme is not ready",
        },
      },
      REASON.OrganizationNotReady,
    ],
    [
      "organization's token rejected",
      { organization: { kind: "NotReady", reason: REASON.InvalidToken, message: "401" } },
      REASON.InvalidToken,
    ],
    [
      "Secret missing",
      { credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "Secret openai not found" } },
      REASON.SecretNotFound,
    ],
    [
      "Secret key missing",
      {
        credential: {
          kind: "Missing",
          reason: REASON.SecretKeyMissing,
          message: "Secret openai has no key api-key",
        },
      },
      REASON.SecretKeyMissing,
    ],
  ])("%s → Ready False with that reason, no app call", (_case, overrides, reason) => {
    const conn = connection();
    const plan = planConnection(observe(conn, { app: { kind: "NotRead" }, ...overrides }));
    const message =
      overrides.organization?.kind === "NotReady"
        ? overrides.organization.message
        : overrides.credential?.kind === "Missing"
          ? overrides.credential.message
          : "";
    expect(plan.app).toEqual({ kind: "none" });
    expect(plan.finalizer).toBe("keep");
    expect(ready(plan)).toEqual({ type: CONDITION.Ready, status: "False", reason, message });
    expect(condition(plan, CONDITION.AppSynced)).toEqual({
      type: CONDITION.AppSynced,
      status: "False",
      reason,
      message,
    });
    expect(plan.events).toEqual([{ type: "Warning", reason, message }]);
  });

  it("the organization is checked before the credential", () => {
    const plan = planConnection(
      observe(connection(), {
        organization: { kind: "NotReady", reason: REASON.OrganizationNotFound, message: "x" },
        credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "y" },
      }),
    );
    expect(ready(plan)?.reason).toBe(REASON.OrganizationNotFound);
  });

  it("warns once: no event when Ready is already False for the same reason, and status stays as it is", () => {
    const observed = {
      credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "Secret openai not found" },
    } as const;
    const first = reconcile(observe(connection(), observed));
    const again = reconcile(observe(first.after, { ...observed, now: LATER }));
    expect(again.plan.events).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it("warns again when the reason changes", () => {
    const first = reconcile(
      observe(connection(), { credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "a" } }),
    );
    const next = planConnection(
      observe(first.after, {
        credential: { kind: "Missing", reason: REASON.SecretKeyMissing, message: "b" },
      }),
    );
    expect(next.events).toEqual([{ type: "Warning", reason: REASON.SecretKeyMissing, message: "b" }]);
  });

  it("keeps what was pushed before (id, fingerprint, models) in status while blocked", () => {
    const { conn } = syncedConnection();
    const { status } = reconcile(
      observe(conn, { credential: { kind: "Missing", reason: REASON.SecretNotFound, message: "gone" } }),
    );
    expect(status).toMatchObject({
      appConnectionId: conn.status?.appConnectionId,
      credentialFingerprint: conn.status?.credentialFingerprint,
      models: conn.status?.models,
      organizationId: APP_ORG_ID,
    });
    expect(findCondition(status.conditions, CONDITION.Ready)).toMatchObject({
      status: "False",
      reason: REASON.SecretNotFound,
    });
  });
});

describe("one connection per organization", () => {
  const sibling = (name: string, creationTimestamp: string, deleting = false) => ({
    name,
    creationTimestamp,
    deleting,
  });

  it.each([
    ["alone", "2026-11-02T00:00:00Z", [], "me"],
    ["the oldest", "2026-11-01T00:00:00Z", [sibling("zed", "2026-11-02T00:00:00Z")], "me"],
    ["younger", "2026-11-02T00:00:00Z", [sibling("zed", "2026-11-01T00:00:00Z")], "zed"],
    [
      "the middle one",
      "2026-11-02T00:00:00Z",
      [sibling("c", "2026-11-03T00:00:00Z"), sibling("a", "2026-11-01T00:00:00Z")],
      "a",
    ],
    ["tied, name first", "2026-11-01T00:00:00Z", [sibling("nop", "2026-11-01T00:00:00Z")], "me"],
    ["tied, name later", "2026-11-01T00:00:00Z", [sibling("abc", "2026-11-01T00:00:00Z")], "abc"],
    // The winner holds until it is gone, so two connections never write one provider at once.
    [
      "younger than a deleting winner",
      "2026-11-02T00:00:00Z",
      [sibling("old", "2026-11-01T00:00:00Z", true)],
      "old",
    ],
  ] as const)("%s: %s", (_case, creationTimestamp, siblings, winner) => {
    for (const provider of PER_ORGANIZATION) {
      expect(oneConnectionWinner(connection({ provider, name: "me", creationTimestamp }), siblings)).toBe(
        winner,
      );
    }
  });

  it.each(PER_MODEL)("%s has no such rule: each connection wins for itself", (provider) => {
    const conn = connection({ provider, name: "me", creationTimestamp: "2026-11-05T00:00:00Z" });
    expect(oneConnectionWinner(conn, [sibling("old", "2026-11-01T00:00:00Z")])).toBe("me");
    expect(
      planConnection(observe(conn, { siblings: [sibling("old", "2026-11-01T00:00:00Z")] })).app.kind,
    ).toBe("create");
  });

  it.each(PER_ORGANIZATION)(
    "a younger %s connection is DuplicateProvider naming the winner, with no app call",
    (provider) => {
      const conn = connection({ provider, name: "late", creationTimestamp: "2026-11-05T00:00:00Z" });
      const plan = planConnection(
        observe(conn, { siblings: [sibling("first", "2026-11-01T00:00:00Z")], app: { kind: "NotRead" } }),
      );
      expect(plan.app).toEqual({ kind: "none" });
      expect(ready(plan)).toMatchObject({ status: "False", reason: REASON.DuplicateProvider });
      expect(condition(plan, CONDITION.AppSynced)).toMatchObject({
        status: "False",
        reason: REASON.DuplicateProvider,
      });
      expect(ready(plan)?.message).toContain('"first"');
      expect(ready(plan)?.message).toContain(provider);
      expect(plan.events).toMatchObject([{ type: "Warning", reason: REASON.DuplicateProvider }]);
    },
  );

  it("the next oldest takes over once the winner is gone", () => {
    const conn = connection({ name: "second", creationTimestamp: "2026-11-02T00:00:00Z" });
    const losing = reconcile(
      observe(conn, {
        siblings: [sibling("first", "2026-11-01T00:00:00Z"), sibling("third", "2026-11-03T00:00:00Z")],
        app: { kind: "NotRead" },
      }),
    );
    expect(findCondition(losing.status.conditions, CONDITION.Ready)?.reason).toBe(REASON.DuplicateProvider);
    // The winner's record was made by the operator, so the new winner adopts it.
    const left = appRecord(
      { provider: "OpenAI", scope: "Organization" },
      { id: 5, createdBy: OPERATOR_USER_ID },
    );
    const taking = planConnection(
      observe(losing.after, {
        siblings: [sibling("third", "2026-11-03T00:00:00Z")],
        app: { kind: "Listed", records: [left] },
        now: LATER,
      }),
    );
    expect(taking.app).toMatchObject({ kind: "update", id: 5, pushSecrets: true });
    expect(taking.conditions[0]).toMatchObject({ type: CONDITION.Ready, status: "True" });
  });
});

describe("adoption (status has no app id)", () => {
  it.each(ALL)("%s: nothing in the app → create with the desired fields", (provider) => {
    const conn = connection({ provider });
    const plan = planConnection(observe(conn));
    expect(plan.app).toEqual({ kind: "create", fields: desiredFields(conn.spec) });
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Created" }]);
  });

  it.each(PER_ORGANIZATION)("%s: a record made by the operator's user is adopted", (provider) => {
    const conn = connection({ provider });
    const record = appRecord(desiredFields(conn.spec), { id: 23, createdBy: OPERATOR_USER_ID });
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record] } }));
    expect(plan.app).toEqual({
      kind: "update",
      id: 23,
      fields: desiredFields(conn.spec),
      pushSecrets: true,
    });
    expect(plan.status.appConnectionId).toBe(23);
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Adopted" }]);
  });

  it.each(PER_ORGANIZATION)("%s: a record made by someone else → ExistsInApp, no app call", (provider) => {
    const conn = connection({ provider });
    const record = appRecord(desiredFields(conn.spec), { id: 23, createdBy: OTHER_USER_ID });
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record] } }));
    expect(plan.app).toEqual({ kind: "none" });
    expect(ready(plan)).toMatchObject({ status: "False", reason: REASON.ExistsInApp });
    expect(ready(plan)?.message).toContain("id 23");
    expect(ready(plan)?.message).toContain("adoptExisting");
    expect(plan.events).toMatchObject([{ type: "Warning", reason: REASON.ExistsInApp }]);
  });

  it("a record without a creator counts as someone else's", () => {
    const record = { ...appRecord(desiredFields(specFor("OpenAI")), { id: 23 }), created_by: null };
    const plan = planConnection(observe(connection(), { app: { kind: "Listed", records: [record] } }));
    expect(ready(plan)?.reason).toBe(REASON.ExistsInApp);
  });

  it.each(PER_ORGANIZATION)(
    "%s: someone else's record is adopted when the Organization says adoptExisting",
    (provider) => {
      const conn = connection({ provider });
      const record = appRecord(desiredFields(conn.spec), { id: 23, createdBy: OTHER_USER_ID });
      const plan = planConnection(
        observe(conn, {
          organization: readyOrganization({ adoptExisting: true }),
          app: { kind: "Listed", records: [record] },
        }),
      );
      expect(plan.app).toMatchObject({ kind: "update", id: 23, pushSecrets: true });
    },
  );

  it("records of other providers are not candidates", () => {
    const records = [
      appRecord({ provider: "Gemini", scope: "Organization" }, { id: 4, createdBy: OTHER_USER_ID }),
    ];
    expect(planConnection(observe(connection(), { app: { kind: "Listed", records } })).app.kind).toBe(
      "create",
    );
  });

  it("of several candidates the lowest id is adopted", () => {
    const fields = desiredFields(specFor("OpenAI"));
    const records = [30, 12, 21].map((id) => appRecord(fields, { id }));
    expect(planConnection(observe(connection(), { app: { kind: "Listed", records } })).app).toMatchObject({
      id: 12,
    });
  });

  describe.each(PER_MODEL)("%s (per model)", (provider) => {
    const conn = connection({ provider });
    const desired = desiredFields(conn.spec);
    const endpoint = desired.endpoint ?? "";

    it.each([
      ["the same deployment and endpoint", desired.deployment_name, endpoint],
      [
        "the endpoint with a trailing slash toggled",
        desired.deployment_name,
        endpoint.endsWith("/") ? endpoint.slice(0, -1) : `${endpoint}/`,
      ],
      ["the endpoint in upper case", desired.deployment_name, endpoint.toUpperCase()],
    ])("adopts a record with %s, whoever made it", (_case, deployment_name, recordEndpoint) => {
      const record = appRecord(
        { ...desired, deployment_name, endpoint: recordEndpoint },
        { id: 8, createdBy: OTHER_USER_ID },
      );
      const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record] } }));
      expect(plan.app).toMatchObject({
        kind: "update",
        id: 8,
        pushSecrets: true,
        fields: desired,
      });
    });

    it.each([
      ["another deployment", "other-deployment", endpoint],
      ["another endpoint", desired.deployment_name, "https://elsewhere.example/v1"],
    ])("creates beside a record with %s", (_case, deployment_name, recordEndpoint) => {
      const record = appRecord({ ...desired, deployment_name, endpoint: recordEndpoint }, { id: 8 });
      expect(planConnection(observe(conn, { app: { kind: "Listed", records: [record] } })).app.kind).toBe(
        "create",
      );
    });
  });
});

describe("drift (status has the app id)", () => {
  it.each(ALL)("%s: the record was deleted in the app → created again (Recreated)", (provider) => {
    const { conn } = syncedConnection(provider);
    const plan = planConnection(observe(conn, { app: { kind: "ById", record: undefined } }));
    expect(plan.app.kind).toBe("create");
    expect(plan.app).toMatchObject({ fields: { provider, scope: desiredFields(conn.spec).scope } });
    expect(reasons(plan)).toEqual(["Recreated"]);
  });

  it("a recreated record's new id replaces the old one in status", () => {
    const { conn } = syncedConnection();
    const observed = observe(conn, { app: { kind: "ById", record: undefined }, now: LATER });
    const plan = planConnection(observed);
    const { result } = applied(plan, undefined, { newId: 99 });
    expect(nextStatus(conn, plan, result, LATER).appConnectionId).toBe(99);
  });

  it.each([
    ["AzureOpenAI", "deployment_name", "gpt4o-old"],
    ["AzureOpenAI", "endpoint", "https://moved.openai.azure.com/"],
    ["Custom", "endpoint", "http://elsewhere:11434/v1"],
    ["VertexAI", "google_location", "us-central1"],
    ["VertexAI", "google_project_id", "other-project"],
  ] as const)("%s: %s changed → update of only that field, without secrets", (provider, field, value) => {
    const { conn, record } = syncedConnection(provider);
    const desired = desiredFields(
      conn.spec,
      undefined,
      conn.status?.models?.filter((m) => m.available).map((m) => m.name),
    );
    // The app's updated_at is what status remembers: the change came from the spec's side, not the app's.
    const drifted = { ...record, [field]: value };
    const plan = planConnection(observe(conn, { app: { kind: "ById", record: drifted } }));
    expect(plan.app).toEqual({
      kind: "update",
      id: record.id,
      fields: { [field]: desired[field] },
      pushSecrets: false,
    });
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Updated" }]);
    expect(plan.events[0]?.message).toContain(field);
  });

  it("a spec change (new deployment) updates only the deployment", () => {
    const { conn, record } = syncedConnection("AzureOpenAI");
    const spec = { ...conn.spec, azure: { ...conn.spec.azure, deployment: "gpt41-prod" } };
    const plan = planConnection(
      observe(
        { ...conn, spec, metadata: { ...conn.metadata, generation: 2 } },
        { app: { kind: "ById", record } },
      ),
    );
    expect(plan.app).toMatchObject({
      kind: "update",
      fields: { deployment_name: "gpt41-prod" },
      pushSecrets: false,
    });
  });

  it.each([
    ["a later updated_at", "2026-11-20T11:00:00Z"],
    ["an earlier updated_at", "2026-01-01T00:00:00Z"],
    ["no updated_at", null],
  ])(
    "the record has %s than status remembers → full update with secrets (DriftCorrected)",
    (_case, updatedAt) => {
      const { conn, record } = syncedConnection();
      const changed = { ...record, updated_at: updatedAt };
      const plan = planConnection(observe(conn, { app: { kind: "ById", record: changed } }));
      // cached_available_models is not rewritten: only a change of the operator's own check result writes it.
      expect(plan.app).toEqual({
        kind: "update",
        id: record.id,
        fields: desiredFields(conn.spec),
        pushSecrets: true,
      });
      expect(reasons(plan)).toEqual(["DriftCorrected"]);
    },
  );

  it("without a remembered updated_at, only field drift counts", () => {
    const { conn, record } = syncedConnection();
    const { appUpdatedTime: _, ...status } = conn.status ?? {};
    const plan = planConnection(
      observe(
        { ...conn, status },
        { app: { kind: "ById", record: { ...record, updated_at: "2030-01-01T00:00:00Z" } } },
      ),
    );
    expect(plan.app).toEqual({ kind: "none" });
  });
});

describe("rotation", () => {
  it.each(ALL)(
    "%s: a new fingerprint → update pushing secrets, CredentialRotated, credentialRotatedTime",
    (provider) => {
      const { conn, record } = syncedConnection(provider);
      expect(conn.status?.credentialFingerprint).toBe(FP_A);
      const observed = observe(conn, {
        app: { kind: "ById", record },
        credential: { kind: "Ready", fingerprint: FP_B },
        now: LATER,
      });
      const plan = planConnection(observed);
      expect(plan.app).toEqual({
        kind: "update",
        id: record.id,
        fields: {},
        pushSecrets: true,
      });
      expect(plan.events).toEqual([
        {
          type: "Normal",
          reason: "CredentialRotated",
          message: `credential ${FP_B} pushed to the app (was ${FP_A})`,
        },
      ]);
      expect(plan.status).toMatchObject({
        credentialFingerprint: FP_B,
        credentialRotatedTime: LATER.toISOString(),
      });
    },
  );

  it("a rotation together with field drift pushes both at once", () => {
    const { conn, record } = syncedConnection("AzureOpenAI");
    const plan = planConnection(
      observe(conn, {
        app: { kind: "ById", record: { ...record, endpoint: "https://moved.example/" } },
        credential: { kind: "Ready", fingerprint: FP_B },
      }),
    );
    expect(plan.app).toMatchObject({
      kind: "update",
      fields: { endpoint: "https://acme.openai.azure.com/" },
      pushSecrets: true,
    });
    expect(reasons(plan)).toEqual(["Updated", "CredentialRotated"]);
  });

  it("the first push is not a rotation: no CredentialRotated event", () => {
    const plan = planConnection(observe(connection()));
    expect(reasons(plan)).not.toContain("CredentialRotated");
    expect(plan.status.credentialFingerprint).toBe(FP_A);
  });

  it("a rotated credential whose record was deleted is pushed by the recreate", () => {
    const { conn } = syncedConnection();
    const plan = planConnection(
      observe(conn, {
        app: { kind: "ById", record: undefined },
        credential: { kind: "Ready", fingerprint: FP_B },
      }),
    );
    expect(plan.app.kind).toBe("create");
    expect(reasons(plan)).toEqual(["Recreated", "CredentialRotated"]);
  });

  it("the rotated status is kept: the next reconcile is idle", () => {
    const { conn, record } = syncedConnection();
    const rotated = reconcile(
      observe(conn, {
        app: { kind: "ById", record },
        credential: { kind: "Ready", fingerprint: FP_B },
        now: LATER,
      }),
      record,
    );
    expect(rotated.status.credentialRotatedTime).toBe(LATER.toISOString());
    const after = new Date(LATER.getTime() + 60_000);
    const next = reconcile(
      observe(rotated.after, {
        app: { kind: "ById", record: rotated.record },
        credential: { kind: "Ready", fingerprint: FP_B },
        now: after,
      }),
      rotated.record,
    );
    expect(next.plan.app).toEqual({ kind: "none" });
    expect(next.plan.events).toEqual([]);
    expect(next.changed).toBe(false);
    expect(next.status.credentialRotatedTime).toBe(LATER.toISOString());
  });
});

describe("idle: nothing changed → nothing done, nothing written", () => {
  it.each(ALL)(
    "%s: the reconcile after a sync plans no action, no events and an equal status",
    (provider) => {
      const { conn, record } = syncedConnection(provider);
      const { plan, status, changed } = reconcile(
        observe(conn, { app: { kind: "ById", record }, now: LATER }),
        record,
      );
      expect(plan.app).toEqual({ kind: "none" });
      expect(plan.events).toEqual([]);
      expect(plan.finalizer).toBe("keep");
      expect(status).toEqual(conn.status);
      expect(changed).toBe(false);
    },
  );

  it("stays idle across many resyncs", () => {
    let { conn, record } = syncedConnection();
    for (let i = 1; i <= 5; i++) {
      const now = new Date(NOW.getTime() + i * 600_000);
      const step = reconcile(observe(conn, { app: { kind: "ById", record }, now }), record);
      expect(step.changed).toBe(false);
      expect(step.plan.app.kind).toBe("none");
      conn = step.after;
      record = step.record ?? record;
    }
  });

  it.each<[string, AppView]>([
    [
      "after an adoption",
      { kind: "Listed", records: [appRecord({ provider: "OpenAI", scope: "Organization" }, { id: 31 })] },
    ],
    ["after a recreate", { kind: "ById", record: undefined }],
  ])("settles in one reconcile %s", (_case, app) => {
    const start = syncedConnection();
    const base =
      app.kind === "Listed"
        ? { ...start.conn, status: { ...start.conn.status, appConnectionId: undefined } }
        : start.conn;
    const existing = app.kind === "Listed" ? app.records[0] : undefined;
    const first = reconcile(observe(base, { app, now: LATER }), existing);
    expect(first.plan.app.kind).not.toBe("none");
    const again = reconcile(
      observe(first.after, { app: { kind: "ById", record: first.record }, now: LATER }),
      first.record,
    );
    expect(again.plan.app).toEqual({ kind: "none" });
    expect(again.changed).toBe(false);
  });

  it("asks to be requeued when the next model check is due", () => {
    const { conn, record } = syncedConnection();
    const plan = planConnection(
      observe(conn, { app: { kind: "ById", record }, nextModelCheckInMs: 123_456 }),
    );
    expect(plan.requeueAfterMs).toBe(123_456);
  });
});

describe("model checks", () => {
  describe("modelConditions", () => {
    it.each<[ModelCheck["outcome"], "True" | "False" | "Unknown", Reason, boolean]>([
      ["Valid", "True", REASON.Valid, true],
      ["InvalidCredentials", "False", REASON.InvalidCredentials, true],
      ["NetworkRestricted", "False", REASON.NetworkRestricted, true],
      ["EgressDenied", "False", REASON.EgressDenied, true],
      ["RateLimited", "Unknown", REASON.RateLimited, false],
      ["Unavailable", "Unknown", REASON.ProviderUnavailable, false],
      ["NotOpenAICompatible", "True", REASON.Valid, true],
      ["JSONModeUnsupported", "True", REASON.Valid, true],
    ])("%s → CredentialsValid %s (%s)", (outcome, status, reason, decidesModels) => {
      const intents = modelConditions(
        false,
        { outcome, message: `check said ${outcome}`, models: [] },
        undefined,
      );
      expect(intents[0]).toEqual({
        type: CONDITION.CredentialsValid,
        status,
        reason,
        message: `check said ${outcome}`,
      });
      expect(intents.some((c) => c.type === CONDITION.ModelsAvailable)).toBe(decidesModels);
      expect(
        intents.some((c) => c.type === CONDITION.OpenAICompatible || c.type === CONDITION.JSONMode),
      ).toBe(false);
    });

    it.each<[string, string[] | undefined, ModelAvailability[], "True" | "False", Reason, string]>([
      [
        "all expected available",
        ["gpt-4o", "gpt-4.1"],
        models(["gpt-4o", "gpt-4.1", "o3"]),
        "True",
        REASON.ModelsAvailable,
        "all 2 expected models are available",
      ],
      [
        "some expected missing",
        ["gpt-4o", "gpt-4.1", "o3"],
        models(["gpt-4o"], ["o3"]),
        "True",
        REASON.ModelsMissing,
        "missing: gpt-4.1, o3",
      ],
      [
        "all expected missing",
        ["gpt-4.1", "o3"],
        models(["gpt-4o"], ["o3"]),
        "False",
        REASON.NoModelsAvailable,
        "none of the expected models is available: gpt-4.1, o3",
      ],
      [
        "none expected, some available",
        undefined,
        models(["gpt-4o", "o3"], ["o1"]),
        "True",
        REASON.ModelsAvailable,
        "2 supported models available",
      ],
      [
        "an empty expectation counts as none",
        [],
        models(["gpt-4o"]),
        "True",
        REASON.ModelsAvailable,
        "1 supported models available",
      ],
      [
        "none expected, none available",
        undefined,
        models([], ["gpt-4o"]),
        "False",
        REASON.NoModelsAvailable,
        "no supported model is available with this credential",
      ],
    ])("ModelsAvailable: %s", (_case, expected, listed, status, reason, message) => {
      const intents = modelConditions(false, { outcome: "Valid", message: "ok", models: listed }, expected);
      expect(intents.find((c) => c.type === CONDITION.ModelsAvailable)).toEqual({
        type: CONDITION.ModelsAvailable,
        status,
        reason,
        message,
      });
    });

    it.each<[string, ModelCheck, Reason, string]>([
      [
        "a deployment meets the expected model it serves (the check's expectedMissing)",
        { outcome: "Valid", message: "ok", models: models(["chat-4o"]), expectedMissing: ["gpt-4.1"] },
        REASON.ModelsMissing,
        "missing: gpt-4.1",
      ],
      [
        "a deployment serving every expected model",
        { outcome: "Valid", message: "ok", models: models(["chat-4o"]), expectedMissing: [] },
        REASON.ModelsAvailable,
        "all 2 expected models are available",
      ],
      [
        "a deployment that does not answer meets nothing",
        { outcome: "Valid", message: "404", models: models([], ["chat-4o"]), expectedMissing: [] },
        REASON.NoModelsAvailable,
        "none of the expected models is available: gpt-4o, gpt-4.1",
      ],
      [
        "a rejected key meets nothing (its expectedMissing is empty)",
        { outcome: "InvalidCredentials", message: "401", models: [], expectedMissing: [] },
        REASON.NoModelsAvailable,
        "none of the expected models is available: gpt-4o, gpt-4.1",
      ],
    ])("ModelsAvailable for an Azure deployment: %s", (_case, check, reason, message) => {
      const intents = modelConditions(false, check, ["gpt-4o", "gpt-4.1"]);
      expect(intents.find((c) => c.type === CONDITION.ModelsAvailable)).toMatchObject({ reason, message });
    });

    it.each<
      [
        string,
        Partial<ModelCheck>,
        ["True" | "False" | "Unknown", Reason],
        ["True" | "False" | "Unknown", Reason],
      ]
    >([
      [
        "compatible with JSON mode",
        { openAICompatible: true, jsonMode: true },
        ["True", REASON.Valid],
        ["True", REASON.JSONModeSupported],
      ],
      [
        "compatible without JSON mode",
        { outcome: "JSONModeUnsupported", openAICompatible: true, jsonMode: false },
        ["True", REASON.Valid],
        ["False", REASON.JSONModeUnsupported],
      ],
      [
        "not OpenAI-compatible",
        { outcome: "NotOpenAICompatible", openAICompatible: false },
        ["False", REASON.NotOpenAICompatible],
        ["Unknown", REASON.NotChecked],
      ],
      [
        "unreachable",
        { outcome: "Unavailable" },
        ["Unknown", REASON.NotChecked],
        ["Unknown", REASON.NotChecked],
      ],
    ])("Custom: %s", (_case, check, [compatStatus, compatReason], [jsonStatus, jsonReason]) => {
      const intents = modelConditions(
        true,
        { outcome: "Valid", message: "m", models: models(["llama3.1:8b"]), ...check },
        undefined,
      );
      expect(intents.find((c) => c.type === CONDITION.OpenAICompatible)).toMatchObject({
        status: compatStatus,
        reason: compatReason,
      });
      expect(intents.find((c) => c.type === CONDITION.JSONMode)).toMatchObject({
        status: jsonStatus,
        reason: jsonReason,
      });
    });

    it("never puts more than the check's message in a condition (the check carries no secret)", () => {
      const intents = modelConditions(
        true,
        { outcome: "InvalidCredentials", message: "401 from provider", models: [] },
        ["x"],
      );
      for (const intent of intents) expect(intent.message).not.toMatch(/sk-|Bearer/);
    });
  });

  describe("in the plan", () => {
    const checked = (check: ModelCheck, options: { provider?: Provider; expected?: string[] } = {}) => {
      const provider = options.provider ?? "OpenAI";
      const conn = connection({
        provider,
        ...(options.expected ? { spec: { models: options.expected } } : {}),
      });
      return planConnection(observe(conn, { modelCheck: check }));
    };

    it("a valid check: Ready True, models and the check time in status, cached_available_models pushed", () => {
      const plan = checked(validCheck(["gpt-4o"], { models: models(["gpt-4o"], ["o3"]) }));
      expect(ready(plan)).toEqual({
        type: CONDITION.Ready,
        status: "True",
        reason: REASON.Synced,
        message: "synced to the app; 1 of 2 supported models available",
      });
      expect(plan.status).toMatchObject({
        models: models(["gpt-4o"], ["o3"]),
        availableModels: 1,
        modelsCheckedTime: NOW.toISOString(),
      });
      expect(plan.app).toMatchObject({ kind: "create", fields: { cached_available_models: "gpt-4o" } });
    });

    it.each<[string, ModelCheck, string[] | undefined, "True" | "False", Reason, Reason | undefined]>([
      [
        "invalid credentials",
        { outcome: "InvalidCredentials", message: "401", models: [] },
        undefined,
        "False",
        REASON.InvalidCredentials,
        REASON.InvalidCredentials,
      ],
      [
        "network restricted",
        { outcome: "NetworkRestricted", message: "403 ip", models: [] },
        undefined,
        "False",
        REASON.NetworkRestricted,
        REASON.NetworkRestricted,
      ],
      [
        "egress denied",
        { outcome: "EgressDenied", message: "not allowed", models: [] },
        undefined,
        "False",
        REASON.EgressDenied,
        REASON.EgressDenied,
      ],
      [
        "no expected model",
        validCheck(["gpt-4o"]),
        ["o3"],
        "False",
        REASON.NoModelsAvailable,
        REASON.NoModelsAvailable,
      ],
      [
        "some expected models missing",
        validCheck(["gpt-4o"]),
        ["gpt-4o", "o3"],
        "True",
        REASON.Synced,
        REASON.ModelsMissing,
      ],
      [
        "rate limited before any result (unverified)",
        { outcome: "RateLimited", message: "429", models: [], retryAfterMs: 30_000 },
        undefined,
        "False",
        REASON.RateLimited,
        REASON.RateLimited,
      ],
      [
        "provider unavailable before any result (unverified)",
        { outcome: "Unavailable", message: "503", models: [] },
        undefined,
        "False",
        REASON.ProviderUnavailable,
        REASON.ProviderUnavailable,
      ],
      ["all models available", validCheck(["gpt-4o"]), ["gpt-4o"], "True", REASON.Synced, undefined],
    ])("Ready after %s: %s %s (warning: %s)", (_case, check, expected, status, reason, warned) => {
      const plan = checked(check, { expected });
      expect(ready(plan)).toMatchObject({ status, reason });
      expect(plan.app.kind).toBe("create");
      expect(condition(plan, CONDITION.AppSynced)).toMatchObject({ status: "True", reason: REASON.Synced });
      const warnings = plan.events.filter((e) => e.type === "Warning").map((e) => e.reason);
      expect(warnings).toEqual(warned ? [warned] : []);
    });

    it("warns about a check result once: retries that keep it so stay quiet", () => {
      const down: ModelCheck = { outcome: "Unavailable", message: "503", models: [] };
      const first = reconcile(observe(connection(), { modelCheck: down }));
      expect(first.plan.events).toContainEqual(
        expect.objectContaining({ type: "Warning", reason: REASON.ProviderUnavailable }),
      );
      const retry = reconcile(
        observe(first.after, { app: { kind: "ById", record: first.record }, modelCheck: down, now: LATER }),
        first.record,
      );
      expect(retry.plan.events).toEqual([]);
    });

    it.each<[string, Partial<ModelCheck>, Reason]>([
      [
        "not OpenAI-compatible",
        { outcome: "NotOpenAICompatible", openAICompatible: false },
        REASON.NotOpenAICompatible,
      ],
      [
        "without JSON mode",
        { outcome: "JSONModeUnsupported", openAICompatible: true, jsonMode: false },
        REASON.JSONModeUnsupported,
      ],
    ])("Custom %s: Ready False with that reason", (_case, check, reason) => {
      const plan = checked({ ...validCheck(["llama3.1:8b"]), ...check }, { provider: "Custom" });
      expect(ready(plan)).toMatchObject({ status: "False", reason });
    });

    it.each(["RateLimited", "Unavailable"] as const)(
      "a transient failure (%s) keeps the last known models and check time",
      (outcome) => {
        const { conn, record } = syncedConnection("OpenAI", validCheck(["gpt-4o", "gpt-4.1"]));
        const { plan, status } = reconcile(
          observe(conn, {
            app: { kind: "ById", record },
            modelCheck: { outcome, message: "try later", models: [] },
            now: LATER,
          }),
          record,
        );
        expect(plan.app).toEqual({ kind: "none" });
        expect(status.models).toEqual(conn.status?.models);
        expect(status.availableModels).toBe(2);
        expect(status.modelsCheckedTime).toBe(NOW.toISOString());
        expect(findCondition(status.conditions, CONDITION.CredentialsValid)).toMatchObject({
          status: "Unknown",
        });
        expect(findCondition(status.conditions, CONDITION.ModelsAvailable)).toEqual(
          findCondition(conn.status?.conditions, CONDITION.ModelsAvailable),
        );
        expect(findCondition(status.conditions, CONDITION.Ready)).toMatchObject({ status: "True" });
      },
    );

    it("a definite failure replaces the models and moves the check time", () => {
      const { conn, record } = syncedConnection();
      const { status } = reconcile(
        observe(conn, {
          app: { kind: "ById", record },
          modelCheck: { outcome: "InvalidCredentials", message: "401", models: [] },
          now: LATER,
        }),
        record,
      );
      expect(status).toMatchObject({
        models: [],
        availableModels: 0,
        modelsCheckedTime: LATER.toISOString(),
      });
    });

    it("the models available change cached_available_models in the app (only that field)", () => {
      const { conn, record } = syncedConnection();
      const plan = planConnection(
        observe(conn, {
          app: { kind: "ById", record },
          modelCheck: validCheck(["gpt-4o", "o3"]),
          now: LATER,
        }),
      );
      expect(plan.app).toEqual({
        kind: "update",
        id: record.id,
        fields: { cached_available_models: "gpt-4o,o3" },
        pushSecrets: false,
      });
    });

    it("a failed condition from an earlier check keeps Ready False until a check says otherwise", () => {
      const bad = reconcile(
        observe(connection(), { modelCheck: { outcome: "InvalidCredentials", message: "401", models: [] } }),
      );
      const record = bad.record;
      const quiet = reconcile(observe(bad.after, { app: { kind: "ById", record }, now: LATER }), record);
      expect(findCondition(quiet.status.conditions, CONDITION.Ready)).toMatchObject({
        status: "False",
        reason: REASON.InvalidCredentials,
      });
      expect(quiet.plan.events).toEqual([]);
      expect(quiet.changed).toBe(false);
      const fixed = reconcile(
        observe(quiet.after, {
          app: { kind: "ById", record },
          credential: { kind: "Ready", fingerprint: FP_B },
          modelCheck: validCheck(),
          now: LATER,
        }),
        record,
      );
      expect(findCondition(fixed.status.conditions, CONDITION.Ready)).toMatchObject({
        status: "True",
        reason: REASON.Synced,
      });
      expect(findCondition(fixed.status.conditions, CONDITION.CredentialsValid)).toMatchObject({
        status: "True",
      });
    });

    it("a condition from before planning (Provisioned False) makes Ready False", () => {
      const plan = planConnection(
        observe(connection({ provider: "AzureOpenAI" }), {
          extraConditions: [
            {
              type: CONDITION.Provisioned,
              status: "False",
              reason: REASON.ProvisionFailed,
              message: "quota",
            },
          ],
        }),
      );
      expect(ready(plan)).toMatchObject({
        status: "False",
        reason: REASON.ProvisionFailed,
        message: "quota",
      });
    });

    it("records the refresh annotation it handled, only when a check ran", () => {
      const annotations = { [ANNOTATIONS.refreshRequestedAt]: "2026-11-20T09:59:00Z" };
      const conn = connection({ annotations });
      expect(planConnection(observe(conn, { modelCheck: validCheck() })).status.refreshRequestedAt).toBe(
        "2026-11-20T09:59:00Z",
      );
      expect(planConnection(observe(conn)).status).not.toHaveProperty("refreshRequestedAt");
    });

    it.each<[string, ModelCheck | undefined, number | undefined]>([
      ["a valid check", validCheck(), 4],
      ["a definite failure", { outcome: "InvalidCredentials", message: "401", models: [] }, 4],
      ["a transient failure", { outcome: "Unavailable", message: "503", models: [] }, 4],
      ["no check", undefined, undefined],
    ])("after %s, records the generation checked: %s", (_case, check, generation) => {
      const plan = planConnection(observe(connection({ generation: 4 }), { modelCheck: check }));
      expect(plan.status.modelsCheckedGeneration).toBe(generation);
    });

    it("a spec change made while blocked is checked once the connection is unblocked", () => {
      const { conn, record } = syncedConnection();
      expect(conn.status).toMatchObject({ observedGeneration: 1, modelsCheckedGeneration: 1 });
      // The spec changes (generation 2) while the Organization is not ready: the blocked reconcile observes
      // generation 2 but checks nothing.
      const changed: ProviderConnection = {
        ...conn,
        metadata: { ...conn.metadata, generation: 2 },
        spec: { ...conn.spec, models: ["gpt-4o", "o3"] },
      };
      const blocked = reconcile(
        observe(changed, {
          app: { kind: "NotRead" },
          organization: { kind: "NotReady", reason: REASON.OrganizationNotReady, message: "not ready" },
          now: LATER,
        }),
        record,
      );
      expect(blocked.status).toMatchObject({ observedGeneration: 2, modelsCheckedGeneration: 1 });
      // Unblocked, with the same credential and no failures: the new generation is due at once.
      expect(modelCheckDue(blocked.after, FP_A, LATER, undefined)).toEqual({ due: true, why: "spec" });
      const checkedAgain = reconcile(
        observe(blocked.after, { app: { kind: "ById", record }, modelCheck: validCheck(), now: LATER }),
        record,
      );
      expect(checkedAgain.status.modelsCheckedGeneration).toBe(2);
      expect(modelCheckDue(checkedAgain.after, FP_A, LATER, undefined)).toMatchObject({ due: false });
    });

    it("before any check: no models in status, Ready says they were not checked", () => {
      const plan = planConnection(observe(connection()));
      expect(plan.status).not.toHaveProperty("models");
      expect(plan.status).not.toHaveProperty("modelsCheckedTime");
      expect(ready(plan)?.message).toContain("not checked");
      expect(plan.app).toMatchObject({ kind: "create" });
      expect(plan.app.kind === "create" && "cached_available_models" in plan.app.fields).toBe(false);
    });
  });
});

describe("purity", () => {
  it("the same input gives the same plan, and the input is not modified", () => {
    const { conn, record } = syncedConnection("Custom");
    const observed = observe(conn, {
      app: { kind: "ById", record: { ...record, endpoint: "http://x/v1" } },
      modelCheck: checkFor("Custom"),
    });
    const copy = structuredClone(observed);
    expect(planConnection(observed)).toEqual(planConnection(observed));
    expect(observed).toEqual(copy);
  });
});
