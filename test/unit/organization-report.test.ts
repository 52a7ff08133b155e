// The Organization reconcile keeps status.app: it lists the app when the report is due (first reconcile, a sync
// request, a resync interval later), writes status only when the figures change, and asks to run again when the
// next listing is due.
import { describe, expect, it } from "vitest";
import type { Organization, OrganizationStatus } from "../../crds/index.ts";
import { ANNOTATIONS, ORGANIZATION_FINALIZER } from "../../operator/constants.ts";
import type { ListedRecord } from "../../operator/organization/app-report.ts";
import { type OrganizationDeps, reconcileOrganization } from "../../operator/organization/reconcile.ts";
import type { OrganizationSessions } from "../../operator/organization/sessions.ts";
import { APP_ORG_ID, connection, NOW, OPERATOR_USER_ID, organization } from "./fixtures/connection.ts";

const INTERVAL = 600_000;

function world(records: ListedRecord[]) {
  // An Organization already holding its finalizer: the report is what this table is about.
  let object: Organization = {
    ...organization(),
    metadata: { ...organization().metadata, generation: 1, finalizers: [ORGANIZATION_FINALIZER] },
  };
  let now = NOW.getTime();
  let lists = 0;
  let synced = true;
  const writes: OrganizationStatus[] = [];
  const sessions = {
    session: async (o: Organization) => ({
      kind: "Ready",
      organization: o,
      organizationId: APP_ORG_ID,
      userId: OPERATOR_USER_ID,
      app: {
        list: async () => {
          lists += 1;
          return records;
        },
      },
    }),
    forget: () => undefined,
  } as unknown as OrganizationSessions;
  const deps: OrganizationDeps = {
    now: () => new Date(now),
    getOrganization: async () => object,
    sessions,
    patchStatus: async (_, status) => {
      writes.push(status as OrganizationStatus);
      object = { ...object, status: status as OrganizationStatus };
    },
    event: async () => undefined,
    patchMetadata: async () => object,
    organizations: () => [object],
    setTokenFinalizer: async () => undefined,
    connections: () => [connection({ name: "a", status: { appConnectionId: 1 } })],
    connectionsSynced: () => synced,
    reportIntervalMs: INTERVAL,
    listedAt: new Map(),
  };
  return {
    deps,
    reconcile: () => reconcileOrganization(object.metadata.namespace, object.metadata.name, deps),
    advance: (ms: number) => {
      now += ms;
    },
    annotate: (value: string) => {
      object = {
        ...object,
        metadata: { ...object.metadata, annotations: { [ANNOTATIONS.syncRequestedAt]: value } },
      };
    },
    lists: () => lists,
    setSynced: (value: boolean) => {
      synced = value;
    },
    writes,
  };
}

describe("the Organization's app report", () => {
  it("is listed on the first reconcile, written once, and asked for again a resync interval later", async () => {
    const w = world([
      { id: 1, provider: "OpenAI", scope: "Organization" },
      { id: 2, provider: "Gemini", scope: "Organization" },
    ]);
    expect(await w.reconcile()).toEqual({ requeueAfterMs: INTERVAL });
    expect(w.writes.at(-1)?.app).toMatchObject({ managed: 1, unmanaged: 1, unmanagedRecords: [{ id: 2 }] });
    // The echo of its own status write: not due, no listing, no write.
    w.advance(1000);
    expect(await w.reconcile()).toEqual({ requeueAfterMs: INTERVAL - 1000 });
    expect(w.lists()).toBe(1);
    expect(w.writes).toHaveLength(1);
  });

  it("lists again at the interval, and writes nothing when the figures are the same", async () => {
    const w = world([{ id: 2, provider: "Gemini", scope: "Organization" }]);
    await w.reconcile();
    w.advance(INTERVAL);
    await w.reconcile();
    expect(w.lists()).toBe(2);
    expect(w.writes).toHaveLength(1);
  });

  it("lists again at once for a new sync request, and records the value", async () => {
    const w = world([]);
    await w.reconcile();
    w.advance(1000);
    w.annotate("now");
    await w.reconcile();
    expect(w.lists()).toBe(2);
    expect(w.writes.at(-1)?.syncRequestedAt).toBe("now");
    w.advance(1000);
    await w.reconcile();
    expect(w.lists()).toBe(2);
  });

  it("waits for the connections' cache to list before the first report (else every record looks unmanaged)", async () => {
    const w = world([{ id: 1, provider: "OpenAI", scope: "Organization" }]);
    w.setSynced(false);
    expect(await w.reconcile()).toEqual({ requeueAfterMs: 1000 });
    expect(w.lists()).toBe(0);
    expect(w.writes.at(-1)?.app).toBeUndefined();
    w.setSynced(true);
    await w.reconcile();
    expect(w.writes.at(-1)?.app).toMatchObject({ managed: 1, unmanaged: 0 });
  });
});
