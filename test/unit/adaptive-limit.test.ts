import { describe, expect, it } from "vitest";
import { AdaptiveLimit } from "../../operator/kube/adaptive-limit.ts";

describe("adaptive in-flight limit", () => {
  it("halves once for a burst of 429s to requests sent under the same limit", () => {
    let now = 0;
    const changes: number[] = [];
    const limit = new AdaptiveLimit(
      32,
      (l) => changes.push(l),
      1000,
      () => now,
    );
    const window = limit.window;
    for (let i = 0; i < 31; i++) limit.throttled(window);
    expect(limit.value).toBe(16);
    // A request sent under the new limit and throttled again halves it again.
    now = 1000;
    limit.throttled(limit.window);
    expect(limit.value).toBe(8);
    expect(changes).toEqual([16, 8]);
  });

  it("never goes below 1 nor above its bound", () => {
    let now = 0;
    const limit = new AdaptiveLimit(4, undefined, 1000, () => now);
    for (let i = 0; i < 10; i++) limit.throttled(limit.window);
    expect(limit.value).toBe(1);
    for (let i = 1; i <= 10; i++) {
      now = i * 1000;
      limit.answered();
    }
    expect(limit.value).toBe(4);
  });

  it("doubles back only after a quiet second: no 429 and no change in it", () => {
    let now = 0;
    const limit = new AdaptiveLimit(32, undefined, 1000, () => now);
    limit.throttled(limit.window);
    limit.throttled(limit.window);
    expect(limit.value).toBe(8);
    now = 500;
    limit.answered();
    expect(limit.value).toBe(8);
    // A 429 from a request of an older window does not halve again, but the second starts over.
    limit.throttled(0);
    expect(limit.value).toBe(8);
    now = 1400;
    limit.answered();
    expect(limit.value).toBe(8);
    now = 1500;
    limit.answered();
    expect(limit.value).toBe(16);
    now = 2000;
    limit.answered();
    expect(limit.value).toBe(16);
    now = 2500;
    limit.answered();
    expect(limit.value).toBe(32);
  });
});
