import { describe, expect, it } from "vitest";
import { ANNOTATIONS } from "../../operator/constants.ts";
import {
  backoffMs,
  CHECK_BACKOFF,
  type CheckFailures,
  jitteredRefreshMs,
  modelCheckDue,
} from "../../operator/reconcile/model-schedule.ts";
import { type ConnectionOptions, connection, FP_A, FP_B, NOW } from "./fixtures/connection.ts";

const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

/** A connection whose last check (with FP_A, at generation 1) happened at NOW. */
function checked(options: ConnectionOptions & { handledRefresh?: string } = {}) {
  return connection({
    ...options,
    status: {
      observedGeneration: 1,
      credentialFingerprint: FP_A,
      modelsCheckedTime: NOW.toISOString(),
      modelsCheckedGeneration: 1,
      ...(options.handledRefresh ? { refreshRequestedAt: options.handledRefresh } : {}),
      ...options.status,
    },
  });
}

describe("jitteredRefreshMs", () => {
  const uids = Array.from({ length: 200 }, (_, i) => `uid-${i}`);

  it("stays within ±10% of the refresh interval for every object", () => {
    for (const uid of uids) {
      const ms = jitteredRefreshMs(connection({ uid, spec: { refreshInterval: "1h" } }));
      expect(ms).toBeGreaterThanOrEqual(0.9 * HOUR);
      expect(ms).toBeLessThan(1.1 * HOUR);
    }
  });

  it("is deterministic per object", () => {
    for (const uid of uids.slice(0, 20)) {
      expect(jitteredRefreshMs(connection({ uid }))).toBe(jitteredRefreshMs(connection({ uid })));
    }
  });

  it("spreads a fleet on both sides of the interval", () => {
    const values = uids.map((uid) => jitteredRefreshMs(connection({ uid })));
    expect(new Set(values).size).toBeGreaterThan(190);
    expect(values.some((v) => v < 0.95 * HOUR)).toBe(true);
    expect(values.some((v) => v > 1.05 * HOUR)).toBe(true);
  });

  it.each([
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["90s", 90_000],
  ])("scales with refreshInterval %s", (interval, base) => {
    const ms = jitteredRefreshMs(connection({ uid: "u", spec: { refreshInterval: interval } }));
    const ratio = ms / base;
    expect(ratio).toBeGreaterThanOrEqual(0.9);
    expect(ratio).toBeLessThan(1.1);
    // The same factor for the same object, whatever the interval.
    expect(ratio).toBeCloseTo(
      jitteredRefreshMs(connection({ uid: "u", spec: { refreshInterval: "1h" } })) / HOUR,
      5,
    );
  });

  it.each(["0s", "1ms", "3s", "59s"])("never goes below the 1m floor, even for a stored %s", (interval) => {
    const ms = jitteredRefreshMs(connection({ uid: "u", spec: { refreshInterval: interval } }));
    expect(ms).toBe(jitteredRefreshMs(connection({ uid: "u", spec: { refreshInterval: "1m" } })));
    expect(ms).toBeGreaterThanOrEqual(0.9 * 60_000);
  });

  it("defaults to one hour", () => {
    const conn = connection({ uid: "u" });
    delete (conn.spec as { refreshInterval?: string }).refreshInterval;
    expect(jitteredRefreshMs(conn)).toBe(
      jitteredRefreshMs(connection({ uid: "u", spec: { refreshInterval: "1h" } })),
    );
  });
});

describe("backoffMs", () => {
  it.each([
    [0, 5_000],
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [4, 40_000],
    [9, 1_280_000],
    [10, CHECK_BACKOFF.maxMs],
    [50, CHECK_BACKOFF.maxMs],
  ])("after %i failures waits %i ms", (count, ms) => {
    expect(backoffMs({ count, lastAttempt: NOW })).toBe(ms);
  });

  it.each([
    [1, 60_000, 60_000],
    [1, 1_000, 5_000],
    [3, 20_000, 20_000],
    [10, 3 * HOUR, 3 * HOUR],
  ])("after %i failures with Retry-After %i ms waits %i ms", (count, retryAfterMs, ms) => {
    expect(backoffMs({ count, lastAttempt: NOW, retryAfterMs })).toBe(ms);
  });

  it("follows a configured base and cap (--model-check-backoff)", () => {
    const backoff = { baseMs: 1_000, maxMs: 4_000 };
    const steps = [1, 2, 3, 4, 5].map((count) => backoffMs({ count, lastAttempt: NOW }, backoff));
    expect(steps).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
  });
});

describe("modelCheckDue", () => {
  it("is due first when no check has run", () => {
    const conn = connection({
      status: { observedGeneration: 1, credentialFingerprint: FP_A, modelsCheckedGeneration: 1 },
    });
    expect(modelCheckDue(conn, FP_A, NOW, undefined)).toEqual({ due: true, why: "first" });
  });

  it("is due on a brand-new object (no status): the credential is new", () => {
    expect(modelCheckDue(connection(), FP_A, NOW, undefined)).toEqual({ due: true, why: "credential" });
  });

  it("is due when the credential's fingerprint changed", () => {
    expect(modelCheckDue(checked(), FP_B, at(1000), undefined)).toEqual({ due: true, why: "credential" });
  });

  it("is due when the spec's generation changed", () => {
    expect(modelCheckDue(checked({ generation: 2 }), FP_A, at(1000), undefined)).toEqual({
      due: true,
      why: "spec",
    });
  });

  it("is due for a generation observed while blocked but never checked (observedGeneration moved on)", () => {
    // A reconcile blocked by its Organization or Secret writes observedGeneration 2 without a check.
    const conn = checked({ generation: 2, status: { observedGeneration: 2 } });
    expect(modelCheckDue(conn, FP_A, at(1000), undefined)).toEqual({ due: true, why: "spec" });
  });

  it("is not due for a generation already checked, whatever observedGeneration says", () => {
    const conn = checked({ generation: 2, status: { observedGeneration: 2, modelsCheckedGeneration: 2 } });
    expect(modelCheckDue(conn, FP_A, at(1000), undefined)).toMatchObject({ due: false });
  });

  it("is due once for a status written before modelsCheckedGeneration existed", () => {
    const conn = checked({ status: { modelsCheckedGeneration: undefined } });
    expect(modelCheckDue(conn, FP_A, at(1000), undefined)).toEqual({ due: true, why: "spec" });
  });

  it("is due when the refresh annotation has a value not yet handled", () => {
    const conn = checked({ annotations: { [ANNOTATIONS.refreshRequestedAt]: "2026-11-20T10:05:00Z" } });
    expect(modelCheckDue(conn, FP_A, at(1000), undefined)).toEqual({ due: true, why: "requested" });
  });

  it("is not due again for an annotation already handled", () => {
    const value = "2026-11-20T10:05:00Z";
    const conn = checked({ annotations: { [ANNOTATIONS.refreshRequestedAt]: value }, handledRefresh: value });
    expect(modelCheckDue(conn, FP_A, at(1000), undefined)).toMatchObject({ due: false });
  });

  it("honours an annotation even during a backoff", () => {
    const conn = checked({ annotations: { [ANNOTATIONS.refreshRequestedAt]: "now please" } });
    const failures: CheckFailures = { count: 5, lastAttempt: NOW };
    expect(modelCheckDue(conn, FP_A, at(1000), failures)).toEqual({ due: true, why: "requested" });
  });

  describe("refresh interval", () => {
    const conn = checked({ uid: "fleet-member-1" });
    const interval = jitteredRefreshMs(conn);

    it("waits out the jittered interval, saying how long is left", () => {
      expect(modelCheckDue(conn, FP_A, NOW, undefined)).toEqual({ due: false, nextInMs: interval });
      expect(modelCheckDue(conn, FP_A, at(interval - 1), undefined)).toEqual({ due: false, nextInMs: 1 });
    });

    it("is due once it has passed", () => {
      expect(modelCheckDue(conn, FP_A, at(interval), undefined)).toEqual({ due: true, why: "refresh" });
      expect(modelCheckDue(conn, FP_A, at(interval + HOUR), undefined)).toEqual({
        due: true,
        why: "refresh",
      });
    });

    it("uses a different moment for a different object", () => {
      const other = checked({ uid: "fleet-member-2" });
      expect(jitteredRefreshMs(other)).not.toBe(interval);
      const early = Math.min(interval, jitteredRefreshMs(other));
      const late = Math.max(interval, jitteredRefreshMs(other));
      const dueAt = (ms: number) =>
        [conn, other].filter((c) => modelCheckDue(c, FP_A, at(ms), undefined).due).length;
      expect(dueAt(early - 1)).toBe(0);
      expect(dueAt(early)).toBe(1);
      expect(dueAt(late)).toBe(2);
    });
  });

  describe("after failed checks", () => {
    const conn = checked();

    it.each([
      [1, 5_000],
      [2, 10_000],
      [4, 40_000],
    ])("after %i failures waits %i ms from the last attempt", (count, wait) => {
      const failures: CheckFailures = { count, lastAttempt: at(10_000) };
      expect(modelCheckDue(conn, FP_A, at(10_000), failures)).toEqual({ due: false, nextInMs: wait });
      expect(modelCheckDue(conn, FP_A, at(10_000 + wait - 1), failures)).toEqual({ due: false, nextInMs: 1 });
      expect(modelCheckDue(conn, FP_A, at(10_000 + wait), failures)).toEqual({ due: true, why: "retry" });
    });

    it("waits the configured backoff steps when given one", () => {
      const backoff = { baseMs: 1_000, maxMs: 60_000 };
      const failures: CheckFailures = { count: 3, lastAttempt: NOW };
      expect(modelCheckDue(conn, FP_A, at(3_999), failures, backoff)).toEqual({ due: false, nextInMs: 1 });
      expect(modelCheckDue(conn, FP_A, at(4_000), failures, backoff)).toEqual({ due: true, why: "retry" });
    });

    it("honours retryAfterMs when it is longer than the backoff step", () => {
      const failures: CheckFailures = { count: 1, lastAttempt: NOW, retryAfterMs: 120_000 };
      expect(modelCheckDue(conn, FP_A, at(5_000), failures)).toEqual({ due: false, nextInMs: 115_000 });
      expect(modelCheckDue(conn, FP_A, at(120_000), failures)).toEqual({ due: true, why: "retry" });
    });

    it("retries before the refresh interval would (failures replace the schedule)", () => {
      const failures: CheckFailures = { count: 1, lastAttempt: NOW };
      expect(modelCheckDue(conn, FP_A, at(5_000), failures)).toEqual({ due: true, why: "retry" });
    });

    it("still checks at once for a new credential or a new generation", () => {
      const failures: CheckFailures = { count: 8, lastAttempt: NOW };
      expect(modelCheckDue(conn, FP_B, at(1), failures)).toEqual({ due: true, why: "credential" });
      expect(modelCheckDue(checked({ generation: 3 }), FP_A, at(1), failures)).toEqual({
        due: true,
        why: "spec",
      });
    });
  });
});
