// Adoption never takes a record another connection of the same Organization holds (claimedIds).
import { describe, expect, it } from "vitest";
import type { Provider } from "../../crds/index.ts";
import { desiredFields } from "../../operator/reconcile/app-fields.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { appRecord, connection, observe } from "./fixtures/connection.ts";

const ALL: Provider[] = [
  "OpenAI",
  "Gemini",
  "VertexAI",
  "Anthropic",
  "AzureOpenAI",
  "AzureAIFoundry",
  "Custom",
];

describe("claimed records", () => {
  it.each(ALL)("%s: the only matching record is claimed → create a new one", (provider) => {
    const conn = connection({ provider });
    const record = appRecord(desiredFields(conn.spec), { id: 23 });
    const plan = planConnection(
      observe(conn, { app: { kind: "Listed", records: [record] }, claimedIds: new Set([23]) }),
    );
    expect(plan.app).toEqual({ kind: "create", fields: desiredFields(conn.spec) });
    expect(plan.events.map((e) => e.reason)).toEqual(["Created"]);
  });

  it.each(ALL)("%s: an unclaimed match is adopted past a claimed one with a lower id", (provider) => {
    const conn = connection({ provider });
    const records = [23, 24].map((id) => appRecord(desiredFields(conn.spec), { id }));
    const plan = planConnection(
      observe(conn, { app: { kind: "Listed", records }, claimedIds: new Set([23]) }),
    );
    expect(plan.app).toMatchObject({ kind: "update", id: 24 });
  });

  it("a claim does not change a connection that holds its record by id", () => {
    const conn = connection({ provider: "Custom" });
    conn.status = { appConnectionId: 23 };
    const record = appRecord(desiredFields(conn.spec), { id: 23 });
    const plan = planConnection(
      observe(conn, { app: { kind: "ById", record }, claimedIds: new Set<number>() }),
    );
    expect(plan.status.appConnectionId).toBe(23);
  });
});
