// The plugin's logic without a cluster: the audit's rows and findings, its JSON against the schema (and the
// committed JSON Schema file), exit codes 0/1/2, and the requests' waits.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Organization, ProviderConnection } from "../../crds/index.ts";
import type { Cluster } from "../../kubectl-modelkeys/src/kube.ts";
import { main } from "../../kubectl-modelkeys/src/main.ts";
import { AuditReport, audit, formatAge } from "../../kubectl-modelkeys/src/report.ts";
import { acted } from "../../kubectl-modelkeys/src/requests.ts";
import { auditReportSchemaText, SCHEMA_FILE } from "../../kubectl-modelkeys/src/schema-file.ts";
import { connection, NOW, organization } from "./fixtures/connection.ts";

const at = (iso: string) => iso;
const ready = (status: "True" | "False", reason: string) => ({
  type: "Ready",
  status,
  reason,
  message: `${reason} message`,
  lastTransitionTime: at("2026-11-01T00:00:00Z"),
});

function org(app?: NonNullable<Organization["status"]>["app"], maxKeyAge?: string): Organization {
  const o = organization();
  if (maxKeyAge) o.spec.maxKeyAge = maxKeyAge;
  o.status = { conditions: [ready("True", "Synced")], ...(app ? { app } : {}) };
  return o;
}

const healthy = connection({
  name: "healthy",
  status: {
    scope: "Organization",
    appConnectionId: 1,
    credentialFingerprint: "sha256:aaaaaaaaaaaa",
    credentialRotatedTime: "2026-11-10T10:00:00.000Z",
    models: [
      { name: "gpt-4o", available: true },
      { name: "o1", available: false, reason: "NotListed" },
    ],
    conditions: [ready("True", "Synced")],
  },
});
const old = connection({
  provider: "Gemini",
  name: "old",
  status: { ...healthy.status, credentialRotatedTime: "2026-07-01T00:00:00.000Z", appConnectionId: 2 },
});
const broken = connection({
  provider: "Anthropic",
  name: "broken",
  status: { conditions: [ready("False", "SecretNotFound")] },
});
const report = { reportedTime: NOW.toISOString(), managed: 2, unmanaged: 0, changed: 0, offLimits: 0 };

describe("audit", () => {
  it("is clean when every connection is Ready, young enough, and the app holds nothing unmanaged", () => {
    const r = audit({
      connections: [healthy],
      organizations: [org(report, "90d")],
      scope: "ml-platform",
      now: NOW,
    });
    expect(r.clean).toBe(true);
    expect(r.connections[0]).toMatchObject({
      name: "healthy",
      keyFingerprint: "sha256:aaaaaaaaaaaa",
      keyAgeSeconds: 10 * 86_400,
      maxKeyAge: "90d",
      modelsWorking: 1,
      modelsExpected: 2,
      findings: [],
    });
    expect(AuditReport.safeParse(r).success).toBe(true);
  });

  it("flags a key past its max age, a connection not Ready, unmanaged and changed records", () => {
    const r = audit({
      connections: [healthy, old, broken],
      organizations: [
        org(
          {
            ...report,
            unmanaged: 1,
            changed: 1,
            unmanagedRecords: [{ id: 9, provider: "OpenAI", scope: "Organization" }],
            changedRecords: [{ id: 1, connection: "healthy" }],
          },
          "90d",
        ),
      ],
      scope: "ml-platform",
      now: NOW,
    });
    const kinds = Object.fromEntries(r.connections.map((c) => [c.name, c.findings.map((f) => f.kind)]));
    expect(kinds).toEqual({ healthy: ["ChangedInApp"], old: ["KeyPastMaxAge"], broken: ["NotReady"] });
    expect(r.organizations[0]?.findings.map((f) => f.kind)).toEqual(["UnmanagedRecords"]);
    expect(r.findings).toBe(4);
    expect(r.clean).toBe(false);
  });

  it("--max-key-age overrides every max age; an Organization not yet listed is a finding", () => {
    const r = audit({
      connections: [healthy],
      organizations: [org()],
      scope: "*",
      maxKeyAge: "5d",
      now: NOW,
    });
    expect(r.connections[0]?.findings.map((f) => f.kind)).toEqual(["KeyPastMaxAge"]);
    expect(r.organizations[0]?.findings.map((f) => f.kind)).toEqual(["NotListed"]);
  });

  it("formats ages as kubectl does", () => {
    expect([45_000, 12 * 60_000, 5 * 3_600_000, 95 * 86_400_000].map(formatAge)).toEqual([
      "45s",
      "12m",
      "5h",
      "95d",
    ]);
  });
});

describe("the JSON Schema file", () => {
  it("is what the zod schema generates (npm run generate)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(auditReportSchemaText());
  });
});

function fakeCluster(connections: ProviderConnection[], organizations: Organization[]): Cluster {
  return {
    defaultNamespace: "ml-platform",
    listConnections: async () => connections,
    listOrganizations: async () => organizations,
    getConnection: async (_, name) => connections.find((c) => c.metadata.name === name),
    annotateConnection: async () => undefined,
    events: async () => [],
  };
}

async function run(argv: string[], cluster: Cluster) {
  let out = "";
  let err = "";
  const code = await main(argv, {
    connect: () => cluster,
    now: () => NOW,
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe("exit codes", () => {
  it("0 when clean, 1 when something is found", async () => {
    expect((await run(["audit"], fakeCluster([healthy], [org(report)]))).code).toBe(0);
    expect((await run(["audit", "-o", "json"], fakeCluster([healthy, broken], [org(report)]))).code).toBe(1);
  });

  it.each([
    [[]],
    [["audit", "-A", "-n", "x"]],
    [["audit", "--max-key-age", "ninety"]],
    [["audit", "-o", "xml"]],
    [["audit", "--bogus"]],
    [["status"]],
    [["sync", "a", "b"]],
    [["rotate", "healthy"]],
    [["dance"]],
  ])("2 on usage: %j", async (argv) => {
    const result = await run(argv, fakeCluster([healthy], [org(report)]));
    expect(result.code).toBe(2);
  });
});

describe("waiting for the operator", () => {
  it("is done only when status records the very value requested", () => {
    const c = connection({ status: { syncRequestedAt: "v1", appConnectionId: 3 } });
    expect(acted("sync", "v1", c).done).toBe(true);
    expect(acted("sync", "v2", c)).toMatchObject({
      done: false,
      message: expect.stringContaining("Ready=Unknown"),
    });
    expect(acted("release", "true", undefined).done).toBe(true);
    expect(acted("release", "true", c).done).toBe(false);
  });
});
