// Records that are not the operator's (internal, scope User): never adopted, counted, patched or deleted, even
// with adoptExisting, whoever made them.
import { describe, expect, it } from "vitest";
import type { Provider } from "../../crds/index.ts";
import { type AppRecordView, desiredFields } from "../../operator/reconcile/app-fields.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import {
  appRecord,
  connection,
  OPERATOR_USER_ID,
  OTHER_USER_ID,
  observe,
  readyOrganization,
} from "./fixtures/connection.ts";

const OFF_LIMITS: [string, Partial<AppRecordView>][] = [
  ["internal", { is_internal: true }],
  ["scope User", { scope: "User" }],
];
const PROVIDERS: Provider[] = ["OpenAI", "VertexAI", "AzureOpenAI", "Custom"];

describe.each(OFF_LIMITS)("an app record that is %s", (_kind, marks) => {
  const offLimits = (provider: Provider, createdBy: number, id = 31) => {
    const conn = connection({ provider });
    return { conn, record: { ...appRecord(desiredFields(conn.spec), { id, createdBy }), ...marks } };
  };

  it.each(PROVIDERS.flatMap((p) => [OPERATOR_USER_ID, OTHER_USER_ID].map((u) => [p, u] as const)))(
    "%s by user %s is neither adopted nor counted, even with adoptExisting: a new record is created",
    (provider, createdBy) => {
      const { conn, record } = offLimits(provider, createdBy);
      const plan = planConnection(
        observe(conn, {
          app: { kind: "Listed", records: [record] },
          organization: readyOrganization({ adoptExisting: true }),
        }),
      );
      expect(plan.app.kind).toBe("create");
      expect(plan.events.map((e) => e.reason)).toEqual(["Created"]);
    },
  );

  it("does not make an organization-wide provider ExistsInApp", () => {
    const { conn, record } = offLimits("OpenAI", OTHER_USER_ID);
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record] } }));
    expect(plan.app.kind).toBe("create");
    expect(plan.conditions.find((c) => c.type === "Ready")?.reason).not.toBe("ExistsInApp");
  });

  it("is passed over for the operator's own record beside it", () => {
    const { conn, record } = offLimits("OpenAI", OPERATOR_USER_ID, 5);
    const own = appRecord(desiredFields(conn.spec), { id: 9 });
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record, own] } }));
    expect(plan.app).toMatchObject({ kind: "update", id: 9, pushSecrets: true });
  });

  it("is not deleted as a leftover by a deleting connection without an id", () => {
    const conn = connection({ provider: "Custom", deletionTimestamp: "2026-11-20T09:59:00Z" });
    const record = { ...appRecord(desiredFields(conn.spec), { id: 31 }), ...marks };
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [record] } }));
    expect(plan).toMatchObject({ finalizer: "remove", app: { kind: "none" } });
  });

  it("is not deleted when status points at it: the finalizer goes, the record stays (Orphaned)", () => {
    const conn = connection({
      provider: "OpenAI",
      deletionTimestamp: "2026-11-20T09:59:00Z",
      status: { appConnectionId: 31 },
    });
    const record = { ...appRecord(desiredFields(conn.spec), { id: 31 }), ...marks };
    const plan = planConnection(observe(conn, { app: { kind: "ById", record } }));
    expect(plan).toMatchObject({ finalizer: "remove", app: { kind: "none" } });
    expect(plan.events).toMatchObject([{ reason: "Orphaned" }]);
  });
});
