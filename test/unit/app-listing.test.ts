import { describe, expect, it } from "vitest";
import type { AppConnection } from "../../operator/app/schemas.ts";
import { createAppListing } from "../../operator/organization/listing.ts";
import { type ManagedFields, recordMatches } from "../../operator/reconcile/app-fields.ts";

const record = (id: number, endpoint = "https://a.example/v1"): AppConnection =>
  ({ id, provider: "Custom", scope: "Model", endpoint }) as AppConnection;

function world(initial: AppConnection[]) {
  const app = new Map(initial.map((r) => [r.id, r]));
  let now = 0;
  const calls = { list: 0, get: 0 };
  const listing = createAppListing({
    list: async () => {
      calls.list++;
      return [...app.values()];
    },
    get: async (id) => {
      calls.get++;
      return app.get(id);
    },
    ttlMs: 1000,
    now: () => now,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { app, listing, calls, advance };
}

describe("the shared app listing", () => {
  it("lists once for any number of readers, also concurrent ones", async () => {
    const w = world([record(1), record(2)]);
    const reads = await Promise.all(Array.from({ length: 50 }, () => w.listing.records()));
    expect(reads.every((r) => r.length === 2)).toBe(true);
    expect(await w.listing.record(2)).toEqual(record(2));
    expect(w.calls).toEqual({ list: 1, get: 0 });
  });

  it("lists again once the TTL has passed, and sees changes made in the app", async () => {
    const w = world([record(1)]);
    await w.listing.records();
    w.app.set(1, record(1, "https://changed.example/v1"));
    w.advance(999);
    expect((await w.listing.record(1))?.endpoint).toBe("https://a.example/v1");
    w.advance(1);
    expect((await w.listing.record(1))?.endpoint).toBe("https://changed.example/v1");
    expect(w.calls.list).toBe(2);
  });

  it("reflects our own writes at once, without listing", async () => {
    const w = world([record(1)]);
    await w.listing.records();
    w.listing.remember(record(2));
    w.listing.remember(record(1, "https://patched.example/v1"));
    w.listing.forget(2);
    expect(await w.listing.records()).toEqual([record(1, "https://patched.example/v1")]);
    expect(w.calls.list).toBe(1);
  });

  it("asks by id for a record the listing lacks before calling it gone", async () => {
    const w = world([record(1)]);
    await w.listing.records();
    w.app.set(7, record(7));
    expect(await w.listing.record(7)).toEqual(record(7));
    expect(await w.listing.record(8)).toBeUndefined();
    expect(w.calls).toEqual({ list: 1, get: 2 });
  });

  it("lists again after invalidate, and takes a listing made elsewhere", async () => {
    const w = world([record(1)]);
    w.listing.fill([record(3)]);
    expect((await w.listing.records()).map((r) => r.id)).toEqual([3]);
    w.listing.invalidate();
    expect((await w.listing.records()).map((r) => r.id)).toEqual([1]);
    expect(w.calls.list).toBe(1);
  });

  it("finds the candidates of adoption by index: every record that matches, through our writes and listings", async () => {
    const custom = (deployment: string, endpoint: string): ManagedFields => ({
      provider: "Custom",
      scope: "Model",
      deployment_name: deployment,
      endpoint,
      google_project_id: null,
      google_location: null,
    });
    const openAI: ManagedFields = { ...custom("", ""), provider: "OpenAI", scope: "Organization" };
    const at = (id: number, fields: Partial<ManagedFields>) =>
      ({ id, ...custom("m", "https://a.example/v1"), ...fields }) as AppConnection;
    const w = world([
      at(1, {}),
      at(2, { endpoint: "https://A.example/v1/" }),
      at(3, { deployment_name: "other" }),
      at(4, { provider: "OpenAI", scope: "Organization", deployment_name: null, endpoint: null }),
      at(5, { endpoint: "https://b.example/v1" }),
    ]);
    const wanted = [custom("m", "https://a.example/v1"), custom("other", "https://a.example/v1"), openAI];
    const agrees = async () => {
      const all = await w.listing.records();
      for (const desired of wanted) {
        const found = (await w.listing.candidates(desired)).map((r) => r.id).sort();
        expect(found).toEqual(
          all
            .filter((r) => recordMatches(desired, r))
            .map((r) => r.id)
            .sort(),
        );
      }
    };
    await agrees();
    expect((await w.listing.candidates(wanted[0] as ManagedFields)).map((r) => r.id).sort()).toEqual([1, 2]);
    // Our own writes: a record moved elsewhere, a new one, a deleted one.
    w.listing.remember(at(1, { endpoint: "https://b.example/v1" }));
    w.listing.remember(at(6, {}));
    w.listing.forget(2);
    await agrees();
    expect((await w.listing.candidates(wanted[0] as ManagedFields)).map((r) => r.id)).toEqual([6]);
    // A listing made elsewhere, then one from the app.
    w.listing.fill([at(7, {}), at(8, { provider: "OpenAI", scope: "Organization" })]);
    await agrees();
    w.listing.invalidate();
    await agrees();
    expect((await w.listing.candidates(openAI)).map((r) => r.id)).toEqual([4]);
  });
});
