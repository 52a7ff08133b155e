import { describe, expect, it } from "vitest";
import { createOwnWrites } from "../../operator/kube/own-writes.ts";

const at = (resourceVersion: string, tag = "") => ({ metadata: { resourceVersion }, tag });

describe("own writes", () => {
  it("serves our last write while the cache lags, then the cache once it has caught up", () => {
    const writes = createOwnWrites<ReturnType<typeof at>>();
    writes.wrote("k", at("12", "ours"));
    expect(writes.latest("k", at("10", "cache"))?.tag).toBe("ours");
    expect(writes.latest("k", at("12", "cache"))?.tag).toBe("cache");
    // Caught up: the entry is gone, the cache is all there is.
    expect(writes.latest("k", at("11", "cache"))?.tag).toBe("cache");
  });

  it("knows the echoes of its writes from other changes", () => {
    const writes = createOwnWrites<ReturnType<typeof at>>();
    writes.wrote("k", at("20"));
    writes.wrote("k", at("21"));
    expect(writes.isEcho("k", at("20"))).toBe(true);
    expect(writes.isEcho("k", at("21"))).toBe(true);
    expect(writes.isEcho("k", at("22"))).toBe(false);
    expect(writes.isEcho("other", at("20"))).toBe(false);
  });

  it("never lets an older answer replace a newer one, and treats non-numeric versions as the cache's", () => {
    const writes = createOwnWrites<ReturnType<typeof at>>();
    writes.wrote("k", at("30", "new"));
    writes.wrote("k", at("29", "old"));
    expect(writes.latest("k", at("1", "cache"))?.tag).toBe("new");
    writes.wrote("x", at("abc", "ours"));
    expect(writes.latest("x", at("abd", "cache"))?.tag).toBe("cache");
  });

  it("keeps nothing of an answer whose echo the cache already holds, and no managedFields of one it keeps", () => {
    const cache = new Map<string, ReturnType<typeof at>>();
    const writes = createOwnWrites<ReturnType<typeof at>>((key) => cache.get(key));
    // The watch event of our write came before the write's answer: the cache has it already.
    cache.set("k", at("40", "cache"));
    expect(writes.isEcho("k", at("40"))).toBe(false);
    writes.wrote("k", at("40", "ours"));
    cache.set("k", at("39", "stale view"));
    expect(writes.latest("k", cache.get("k"))?.tag).toBe("stale view"); // nothing was kept
    // An answer ahead of the cache is kept, without the server's bookkeeping.
    const answer = {
      metadata: { resourceVersion: "41", managedFields: [{ manager: "modelkeys" }] },
      tag: "ours",
    };
    writes.wrote("k", answer);
    const kept = writes.latest("k", cache.get("k")) as typeof answer;
    expect(kept.tag).toBe("ours");
    expect(kept.metadata).toEqual({ resourceVersion: "41" });
  });
});
