// Which deployments an account's stack holds: one per referencing connection, oldest first for a contested
// name, a deleting connection's deployment deleted (Delete) or first recorded as retained, then released (Orphan).
import { describe, expect, it } from "vitest";
import type { ProviderConnection } from "../../crds/index.ts";
import { type StackDeployment, wantedDeployments } from "../../operator/azure/deployments.ts";

function conn(
  name: string,
  options: {
    created?: string;
    deleting?: boolean;
    orphan?: boolean;
    deployment?: Record<string, unknown>;
  } = {},
): ProviderConnection {
  return {
    apiVersion: "modelkeys.dev/v1alpha1",
    kind: "ProviderConnection",
    metadata: {
      name,
      namespace: "ml",
      creationTimestamp: options.created ?? "2026-11-01T00:00:00Z",
      ...(options.deleting ? { deletionTimestamp: "2026-11-09T00:00:00Z" } : {}),
    },
    spec: {
      organizationRef: { name: "acme" },
      provider: "AzureOpenAI",
      deletionPolicy: options.orphan ? "Orphan" : "Delete",
      refreshInterval: "1h",
      azure: {
        provision: {
          accountRef: { name: "acme-openai" },
          deployment: {
            model: "gpt-4o",
            version: "2024-11-20",
            sku: { name: "Standard", capacity: 10 },
            ...options.deployment,
          },
        },
      },
    },
  };
}

const names = (ds: readonly StackDeployment[]) =>
  ds.map((d) => `${d.name}${d.retainOnDelete ? "(retain)" : ""}`);

describe("wantedDeployments", () => {
  it.each([
    ["one per connection, sorted by name", [conn("b"), conn("a")], undefined, ["a", "b"]],
    ["the deployment name when set", [conn("a", { deployment: { name: "chat" } })], undefined, ["chat"]],
    [
      "Orphan connections' deployments are retained on removal",
      [conn("a", { orphan: true })],
      undefined,
      ["a(retain)"],
    ],
    [
      "a deleting Delete connection's deployment leaves at once",
      [conn("a"), conn("b", { deleting: true })],
      undefined,
      ["a"],
    ],
    [
      "a deleting Orphan connection's stays until the stack recorded it as retained",
      [conn("a", { deleting: true, orphan: true })],
      undefined,
      ["a(retain)"],
    ],
    [
      "…and then leaves",
      [conn("a", { deleting: true, orphan: true })],
      [
        {
          name: "a",
          model: "gpt-4o",
          version: "v",
          sku: { name: "Standard", capacity: 10 },
          retainOnDelete: true,
        },
      ],
      [],
    ],
    [
      "…and never comes back once released",
      [conn("a", { deleting: true, orphan: true })],
      [{ name: "b", model: "gpt-4o", version: "v", sku: { name: "Standard", capacity: 10 } }],
      [],
    ],
    [
      "a deleting Orphan connection's deployment applied without the mark is applied with it first",
      [conn("a", { deleting: true, orphan: true })],
      [{ name: "a", model: "gpt-4o", version: "v", sku: { name: "Standard", capacity: 10 } }],
      ["a(retain)"],
    ],
    ["no connection, no deployment", [], undefined, []],
  ] as [string, ProviderConnection[], StackDeployment[] | undefined, string[]][])(
    "%s",
    (_label, connections, applied, expected) => {
      expect(names(wantedDeployments(connections, applied).deployments)).toEqual(expected);
    },
  );

  it("gives a contested name (any case) to the oldest connection and refuses the other, naming the holder", () => {
    const wanted = wantedDeployments(
      [
        conn("young", { created: "2026-11-02T00:00:00Z", deployment: { name: "Chat" } }),
        conn("old", { deployment: { name: "chat" } }),
      ],
      undefined,
    );
    expect(names(wanted.deployments)).toEqual(["chat"]);
    expect(wanted.owners.get("chat")).toBe("old");
    expect(wanted.refused.get("young")).toMatch(/deployment name "Chat" is taken by ProviderConnection old/);
  });

  it("refuses an invalid deployment block, naming the field", () => {
    const wanted = wantedDeployments(
      [conn("a", { deployment: { sku: { name: "Standard", capacity: 0 } } })],
      undefined,
    );
    expect(wanted.deployments).toEqual([]);
    expect(wanted.refused.get("a")).toMatch(/spec\.azure\.provision\.deployment\.sku\.capacity/);
  });

  it("lists what leaves, with its connection", () => {
    const wanted = wantedDeployments([conn("a", { deleting: true })], undefined);
    expect(wanted.leaving).toEqual([{ deployment: expect.objectContaining({ name: "a" }), connection: "a" }]);
  });
});
