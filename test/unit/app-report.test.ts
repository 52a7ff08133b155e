// The Organization's app report: a pure function from the app's listing and the connections to the counts and
// lists in status.app (managed, unmanaged, changed in the app, off-limits).
import { describe, expect, it } from "vitest";
import {
  appReport,
  keepUnchanged,
  type ListedRecord,
  reportDue,
} from "../../operator/organization/app-report.ts";
import { connection, NAMESPACE, NOW, ORG_NAME } from "./fixtures/connection.ts";

const held = (name: string, id: number, appUpdatedTime = "2026-11-20T09:00:00.000Z") =>
  connection({ name, status: { appConnectionId: id, appUpdatedTime } });
const record = (id: number, fields: Partial<ListedRecord> = {}): ListedRecord => ({
  id,
  provider: "OpenAI",
  scope: "Organization",
  updated_at: "2026-11-20T09:00:00.000Z",
  ...fields,
});

describe("appReport", () => {
  it("counts records held by this Organization's connections as managed", () => {
    const report = appReport([record(1), record(2)], [held("a", 1), held("b", 2)], NAMESPACE, ORG_NAME, NOW);
    expect(report).toEqual({
      reportedTime: NOW.toISOString(),
      managed: 2,
      unmanaged: 0,
      changed: 0,
      offLimits: 0,
    });
  });

  it("lists records no connection holds with id, provider, scope and deployment (never a key)", () => {
    const report = appReport(
      [
        record(9, { provider: "AzureOpenAI", scope: "Model", deployment_name: "gpt-4o-prod" }),
        record(3, { provider: "Gemini" }),
      ],
      [],
      NAMESPACE,
      ORG_NAME,
      NOW,
    );
    expect(report.unmanaged).toBe(2);
    expect(report.unmanagedRecords).toEqual([
      { id: 3, provider: "Gemini", scope: "Organization" },
      { id: 9, provider: "AzureOpenAI", scope: "Model", deployment: "gpt-4o-prod" },
    ]);
  });

  it("finds managed records changed in the app since the operator's last write", () => {
    const report = appReport(
      [record(1, { updated_at: "2026-11-20T09:30:00.000Z" }), record(2)],
      [held("a", 1), held("b", 2)],
      NAMESPACE,
      ORG_NAME,
      NOW,
    );
    expect(report).toMatchObject({ managed: 2, changed: 1, changedRecords: [{ id: 1, connection: "a" }] });
  });

  it("counts internal and User-scope records apart: not the organization's, never listed", () => {
    const report = appReport(
      [record(1, { is_internal: true }), record(2, { scope: "User" }), record(3)],
      [],
      NAMESPACE,
      ORG_NAME,
      NOW,
    );
    expect(report).toMatchObject({ offLimits: 2, unmanaged: 1, unmanagedRecords: [{ id: 3 }] });
  });

  it("does not count connections of another Organization or namespace as managers", () => {
    const other = connection({ name: "x", spec: { organizationRef: { name: "other" } } });
    other.status = { appConnectionId: 1 };
    const elsewhere = held("y", 2);
    elsewhere.metadata.namespace = "elsewhere";
    const report = appReport([record(1), record(2)], [other, elsewhere], NAMESPACE, ORG_NAME, NOW);
    expect(report).toMatchObject({ managed: 0, unmanaged: 2 });
  });

  it("lists at most 100 records but counts them all", () => {
    const records = Array.from({ length: 150 }, (_, i) => record(i + 1));
    const report = appReport(records, [], NAMESPACE, ORG_NAME, NOW);
    expect(report.unmanaged).toBe(150);
    expect(report.unmanagedRecords).toHaveLength(100);
  });
});

describe("reportDue", () => {
  const listed = new Date(NOW.getTime() - 60_000);
  const status = { observedGeneration: 1, syncRequestedAt: "a" };
  it.each([
    ["never listed by this process", status, 1, undefined, undefined, true],
    ["a spec change", status, 2, undefined, listed, true],
    ["a new sync request", status, 1, "b", listed, true],
    ["the same sync request", status, 1, "a", listed, false],
    ["an interval since the last listing", status, 1, undefined, new Date(NOW.getTime() - 600_000), true],
  ])("%s", (_, st, generation, request, listedAt, due) => {
    expect(reportDue(st, generation, request, listedAt, 600_000, NOW).due).toBe(due);
  });

  it("says when the next listing is due", () => {
    expect(reportDue(status, 1, undefined, listed, 600_000, NOW)).toEqual({ due: false, inMs: 540_000 });
  });
});

describe("keepUnchanged", () => {
  it("keeps the previous report (and its time) when the figures are the same, so nothing is written", () => {
    const before = appReport([record(1)], [], NAMESPACE, ORG_NAME, new Date("2026-11-19T00:00:00Z"));
    const now = appReport([record(1)], [], NAMESPACE, ORG_NAME, NOW);
    expect(keepUnchanged(before, now)).toBe(before);
    const changed = appReport([record(1), record(2)], [], NAMESPACE, ORG_NAME, NOW);
    expect(keepUnchanged(before, changed)).toBe(changed);
  });
});

describe("an app's own refresh of its model list", () => {
  it("is not a change in the app when the connection recorded it", () => {
    const c = held("a", 1);
    (c.status as Record<string, unknown>).appRefreshedTime = "2026-11-20T09:30:00.000Z";
    const report = appReport(
      [record(1, { updated_at: "2026-11-20T09:30:00.000Z" })],
      [c],
      NAMESPACE,
      ORG_NAME,
      NOW,
    );
    expect(report.changed).toBe(0);
  });
});
