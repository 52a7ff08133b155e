import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RenewalPriority } from "../../operator/kube/renewal-priority.ts";

describe("renewal priority", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("holds the pool while a renewal runs and resumes what waited once it settles", async () => {
    const priority = new RenewalPriority();
    let finish: (value: string) => void = () => undefined;
    const renewal = priority.during(() => new Promise<string>((resolve) => (finish = resolve)));
    expect(priority.clear).toBe(false);
    const resumed: string[] = [];
    priority.whenClear(() => resumed.push("a"));
    priority.whenClear(() => resumed.push("b"));
    expect(resumed).toEqual([]);
    finish("renewed");
    await expect(renewal).resolves.toBe("renewed");
    expect(priority.clear).toBe(true);
    expect(resumed).toEqual(["a", "b"]);
    // Nothing held: resumed at once.
    priority.whenClear(() => resumed.push("c"));
    expect(resumed).toEqual(["a", "b", "c"]);
  });

  it("lets the pool go after maxHoldMs when a renewal hangs, and a failed renewal releases it too", async () => {
    const priority = new RenewalPriority(1000);
    void priority.during(() => new Promise<never>(() => undefined));
    const resumed: number[] = [];
    priority.whenClear(() => resumed.push(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(priority.clear).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(priority.clear).toBe(true);
    expect(resumed).toEqual([1]);

    const failing = priority.during(() => Promise.reject(new Error("429")));
    await expect(failing).rejects.toThrow("429");
    expect(priority.clear).toBe(true);
  });
});
