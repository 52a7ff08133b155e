// The plan's provisioning hooks: Provisioned conditions on blocked connections, status.azure carried into
// status, and a deleting provisioned connection that keeps its finalizer until deprovisioning is done.
import { describe, expect, it } from "vitest";
import type { ProviderConnectionSpec } from "../../crds/index.ts";
import { CONDITION, REASON } from "../../operator/constants.ts";
import type { ConditionIntent } from "../../operator/reconcile/conditions.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import { appRecord, connection, NOW, noWrite, observe } from "./fixtures/connection.ts";

const provision: NonNullable<NonNullable<ProviderConnectionSpec["azure"]>["provision"]> = {
  accountRef: { name: "acme-openai" },
  deployment: { model: "gpt-4o", version: "2024-11-20", sku: { name: "Standard", capacity: 10 } },
};
const spec: Partial<ProviderConnectionSpec> = { azure: { provision } };
const DELETED_AT = "2026-11-20T09:59:00Z";

const provisioning: ConditionIntent = {
  type: CONDITION.Provisioned,
  status: "Unknown",
  reason: REASON.Provisioning,
  message: "updating Azure account rg-llm/acme-openai",
};
const removing: ConditionIntent[] = [
  { type: CONDITION.Ready, status: "False", reason: REASON.Deleting, message: "removing deployment" },
  { ...provisioning, message: "removing deployment" },
];
const azureStatus = {
  accountName: "acme-openai",
  stack: "rg-llm.acme-openai-12345678",
  lastUpdateResult: "Succeeded",
};

describe("a provisioned connection that is not provisioned yet", () => {
  it("is blocked with the credential's reason and carries the Provisioned condition", () => {
    const plan = planConnection(
      observe(connection({ provider: "AzureOpenAI", spec }), {
        credential: { kind: "Missing", reason: REASON.Provisioning, message: "waiting" },
        extraConditions: [provisioning],
      }),
    );
    expect(plan.app).toEqual({ kind: "none" });
    expect(plan.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      [CONDITION.Ready, "False", REASON.Provisioning],
      [CONDITION.AppSynced, "False", REASON.Provisioning],
      [CONDITION.Provisioned, "Unknown", REASON.Provisioning],
    ]);
  });

  it("says so with a Normal Provisioning Event (work going as planned, not a Warning)", () => {
    const plan = planConnection(
      observe(connection({ provider: "AzureOpenAI", spec }), {
        credential: { kind: "Missing", reason: REASON.Provisioning, message: "waiting" },
        extraConditions: [provisioning],
      }),
    );
    expect(plan.events).toEqual([{ type: "Normal", reason: REASON.Provisioning, message: "waiting" }]);
  });

  it("puts status.azure from provisioning into status, blocked or synced", () => {
    for (const credential of [
      { kind: "Missing", reason: REASON.Provisioning, message: "waiting" } as const,
      { kind: "Ready", fingerprint: "sha256:aaaaaaaaaaaa" } as const,
    ]) {
      const conn = connection({ provider: "AzureOpenAI", spec });
      const plan = planConnection(observe(conn, { credential, azureStatus }));
      expect(plan.status.azure).toEqual(azureStatus);
      expect(nextStatus(conn, plan, noWrite, NOW).azure).toEqual(azureStatus);
    }
  });

  it("leaves status.azure alone when provisioning reports none", () => {
    const conn = connection({ provider: "AzureOpenAI", spec, status: { azure: azureStatus } });
    const plan = planConnection(observe(conn, { extraConditions: [provisioning] }));
    expect(plan.status).not.toHaveProperty("azure");
    expect(nextStatus(conn, plan, noWrite, NOW).azure).toEqual(azureStatus);
  });
});

describe("deleting a provisioned connection", () => {
  const deleting = (policy: "Delete" | "Orphan", id?: number) =>
    connection({
      provider: "AzureOpenAI",
      spec: { ...spec, deletionPolicy: policy },
      deletionTimestamp: DELETED_AT,
      ...(id === undefined ? {} : { status: { appConnectionId: id } }),
    });

  const cases = [
    {
      name: "deletes the app record first and keeps the finalizer while the deployment is removed",
      conn: deleting("Delete", 17),
      deprovision: { kind: "Pending", conditions: removing } as const,
      finalizer: "keep",
      app: { kind: "delete", id: 17 },
      events: ["Deleted"],
    },
    {
      name: "waits without events once the record is gone",
      conn: deleting("Delete"),
      deprovision: { kind: "Pending", conditions: removing } as const,
      finalizer: "keep",
      app: { kind: "none" },
      events: [],
    },
    {
      name: "drops the finalizer when deprovisioning is done",
      conn: deleting("Delete"),
      deprovision: { kind: "Done" } as const,
      finalizer: "remove",
      app: { kind: "none" },
      events: [],
    },
    {
      name: "with Orphan, keeps the record and waits quietly for the release",
      conn: deleting("Orphan", 17),
      deprovision: { kind: "Pending", conditions: removing } as const,
      finalizer: "keep",
      app: { kind: "none" },
      events: [],
    },
    {
      name: "with Orphan, drops the finalizer (and says Orphaned) once released",
      conn: deleting("Orphan", 17),
      deprovision: { kind: "Done" } as const,
      finalizer: "remove",
      app: { kind: "none" },
      events: ["Orphaned"],
    },
  ];

  it.each(cases)("$name", ({ conn, deprovision, finalizer, app, events }) => {
    const plan = planConnection(
      observe(conn, {
        deprovision,
        app: { kind: "ById", record: appRecord({ provider: "AzureOpenAI" }, { id: 17 }) },
      }),
    );
    expect(plan.finalizer).toBe(finalizer);
    expect(plan.app).toEqual(app);
    expect(plan.events.map((e) => e.reason)).toEqual(events);
    if (deprovision.kind === "Pending") expect(plan.conditions).toEqual(expect.arrayContaining(removing));
  });

  it("lets the release annotation win over a pending removal", () => {
    const conn = deleting("Delete", 17);
    conn.metadata.annotations = { "modelkeys.dev/release": "true" };
    const plan = planConnection(observe(conn, { deprovision: { kind: "Pending", conditions: removing } }));
    expect(plan.finalizer).toBe("remove");
  });
});
