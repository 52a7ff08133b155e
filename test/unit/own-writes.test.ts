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
});
