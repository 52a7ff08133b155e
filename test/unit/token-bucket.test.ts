import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../operator/kube/transport.ts";

describe("token bucket", () => {
  it("lets a burst through, then paces at the rate", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([0, 0, 0]);
    expect(bucket.take()).toBeCloseTo(100);
    expect(bucket.take()).toBeCloseTo(200);
    now = 1000;
    expect(bucket.take()).toBe(0);
  });

  it("tryTake takes only a free slot", () => {
    let now = 0;
    const bucket = new TokenBucket(1, 2, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    now = 1000;
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });
});
