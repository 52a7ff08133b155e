// A deleting connection without a record id deletes the record a lost status write left behind — only its own.
import { describe, expect, it } from "vitest";
import type { Provider } from "../../crds/index.ts";
import { desiredFields } from "../../operator/reconcile/app-fields.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import type { AppView } from "../../operator/reconcile/types.ts";
import { appRecord, connection, OTHER_USER_ID, observe } from "./fixtures/connection.ts";

const ALL: Provider[] = [
  "OpenAI",
  "Gemini",
  "VertexAI",
  "Anthropic",
  "AzureOpenAI",
  "AzureAIFoundry",
  "Custom",
];
const DELETED_AT = "2026-11-20T09:59:00Z";

const deleting = (provider: Provider, deletionPolicy: "Delete" | "Orphan" = "Delete") =>
  connection({ provider, deletionTimestamp: DELETED_AT, spec: { deletionPolicy } });

describe("deletion without a record id", () => {
  it.each(ALL)("%s: the operator's unclaimed matching record is deleted", (provider) => {
    const conn = deleting(provider);
    const app: AppView = { kind: "Listed", records: [appRecord(desiredFields(conn.spec), { id: 31 })] };
    const plan = planConnection(observe(conn, { app }));
    expect(plan.finalizer).toBe("remove");
    expect(plan.app).toEqual({ kind: "delete", id: 31 });
    expect(plan.events).toMatchObject([{ type: "Normal", reason: "Deleted" }]);
  });

  it.each([
    ["Orphan leaves it", "Orphan", undefined, []],
    ["someone else's record stays", "Delete", OTHER_USER_ID, []],
    ["a record another connection holds stays", "Delete", undefined, [31]],
  ] as const)("%s", (_case, policy, createdBy, claimedIds) => {
    const conn = deleting("Custom", policy);
    const app: AppView = {
      kind: "Listed",
      records: [appRecord(desiredFields(conn.spec), { id: 31, ...(createdBy ? { createdBy } : {}) })],
    };
    const plan = planConnection(observe(conn, { app, claimedIds: new Set<number>(claimedIds) }));
    expect(plan.finalizer).toBe("remove");
    expect(plan.app).toEqual({ kind: "none" });
  });

  it("a record of another model stays", () => {
    const conn = deleting("Custom");
    const other = appRecord({ ...desiredFields(conn.spec), deployment_name: "another-model" }, { id: 31 });
    const plan = planConnection(observe(conn, { app: { kind: "Listed", records: [other] } }));
    expect(plan.app).toEqual({ kind: "none" });
  });

  it("nothing read (Organization not ready) → the finalizer goes, nothing is deleted", () => {
    const conn = deleting("OpenAI");
    const plan = planConnection(
      observe(conn, {
        app: { kind: "NotRead" },
        organization: { kind: "NotReady", reason: "OrganizationNotFound", message: "gone" },
      }),
    );
    expect(plan.finalizer).toBe("remove");
    expect(plan.app).toEqual({ kind: "none" });
  });
});
