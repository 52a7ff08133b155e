// The index by Organization answers as a scan of the informer cache would: rivals for the one-per-organization
// rule, and the app ids other connections hold, through adds, updates that move a connection, and deletes.
import { describe, expect, it } from "vitest";
import type { Provider, ProviderConnection } from "../../crds/index.ts";
import { rivalsOf } from "../../operator/reconcile/one-per-organization.ts";
import { OrganizationIndex } from "../../operator/reconcile/organization-index.ts";
import { connection, NAMESPACE } from "./fixtures/connection.ts";

const PROVIDERS: Provider[] = ["OpenAI", "Anthropic", "Custom", "AzureOpenAI"];

/** The reference: who holds `id`, by scanning every cached connection (what reconciles did before the index). */
function heldByOtherScan(c: ProviderConnection, all: readonly ProviderConnection[], id: number): boolean {
  return all.some(
    (o) =>
      o.metadata.namespace === c.metadata.namespace &&
      o.spec.organizationRef.name === c.spec.organizationRef.name &&
      o.metadata.name !== c.metadata.name &&
      o.status?.appConnectionId === id,
  );
}

function fleetMember(i: number, random: () => number): ProviderConnection {
  const c = connection({
    name: `c-${i}`,
    provider: PROVIDERS[Math.floor(random() * PROVIDERS.length)] as Provider,
    spec: { organizationRef: { name: `org-${Math.floor(random() * 3)}` } },
    ...(random() < 0.6 ? { status: { appConnectionId: Math.floor(random() * 20) } } : {}),
  });
  // The namespace is part of an object's identity: an update never changes it.
  if (i % 5 === 0) c.metadata.namespace = `${NAMESPACE}-other`;
  return c;
}

/** A small deterministic generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("the index by Organization", () => {
  it("answers rivals and held ids as a scan of the cache, through adds, moves and deletes", () => {
    const random = seeded(42);
    const index = new OrganizationIndex();
    const cache = new Map<string, ProviderConnection>();
    const key = (c: ProviderConnection) => `${c.metadata.namespace}/${c.metadata.name}`;
    for (let step = 0; step < 600; step++) {
      const i = Math.floor(random() * 40);
      const roll = random();
      const existing = [...cache.values()].find((c) => c.metadata.name === `c-${i}`);
      if (existing && roll < 0.25) {
        cache.delete(key(existing));
        index.delete(existing);
      } else {
        // An add, or an update (set again, as the informer's update event) that may change the Organization,
        // the provider or the id held.
        const next = fleetMember(i, random);
        cache.set(key(next), next);
        index.set(next);
      }
      const all = [...cache.values()];
      for (const c of all) {
        const expected = rivalsOf(c, all).map((r) => r.metadata.name);
        expect(
          index
            .rivals(c)
            .map((r) => r.metadata.name)
            .sort(),
        ).toEqual(expected.sort());
        for (let id = 0; id < 20; id++) expect(index.heldByOther(c, id)).toBe(heldByOtherScan(c, all, id));
      }
    }
  });

  it("moves a connection whose update changes its Organization, provider or held id", () => {
    const index = new OrganizationIndex();
    const a = connection({ name: "a", provider: "OpenAI", status: { appConnectionId: 5 } });
    const b = connection({ name: "b", provider: "OpenAI" });
    index.set(a);
    index.set(b);
    expect(index.rivals(b).map((c) => c.metadata.name)).toEqual(["a"]);
    expect(index.heldByOther(b, 5)).toBe(true);
    expect(index.heldByOther(a, 5)).toBe(false);

    // The same object, updated: another Organization.
    const moved = connection({
      name: "a",
      provider: "OpenAI",
      spec: { organizationRef: { name: "elsewhere" } },
      status: { appConnectionId: 5 },
    });
    index.set(moved);
    expect(index.rivals(b)).toEqual([]);
    expect(index.heldByOther(b, 5)).toBe(false);
    expect(index.members(NAMESPACE, "acme").map((c) => c.metadata.name)).toEqual(["b"]);
    expect(index.members(NAMESPACE, "elsewhere").map((c) => c.metadata.name)).toEqual(["a"]);

    // Back, holding another id, then gone.
    index.set(connection({ name: "a", provider: "OpenAI", status: { appConnectionId: 6 } }));
    expect(index.heldByOther(b, 5)).toBe(false);
    expect(index.heldByOther(b, 6)).toBe(true);
    index.delete(a);
    expect(index.heldByOther(b, 6)).toBe(false);
    expect(index.rivals(b)).toEqual([]);
    expect(index.members(NAMESPACE, "elsewhere")).toEqual([]);
  });

  it("gives a per-model provider no rivals", () => {
    const index = new OrganizationIndex();
    const x = connection({ name: "x", provider: "Custom" });
    const y = connection({ name: "y", provider: "Custom" });
    index.set(x);
    index.set(y);
    expect(index.rivals(x)).toEqual([]);
    expect(index.members(NAMESPACE, "acme")).toHaveLength(2);
  });
});
