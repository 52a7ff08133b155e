// The per-Organization circuit breaker, driven by a fake clock: when it opens, what it refuses, how often it
// probes, and that the app's return closes it and wakes the waiting connections once.
import { describe, expect, it } from "vitest";
import { AppError } from "../../operator/app/errors.ts";
import {
  type AppOutcome,
  createAppBreaker,
  outcomeOfError,
  throughBreaker,
} from "../../operator/organization/breaker.ts";
import { FakeClock } from "../support/fake-clock.ts";

const INTERVAL = 5_000;

function setup(failuresToOpen = 3) {
  const clock = new FakeClock();
  let appUp = false;
  const probes: number[] = [];
  let closed = 0;
  const breaker = createAppBreaker({
    organization: "ml-platform/acme",
    clock,
    probeIntervalMs: INTERVAL,
    failuresToOpen,
    probe: async () => {
      probes.push(clock.now());
      return appUp ? "answered" : "down";
    },
    onClose: () => {
      closed += 1;
    },
  });
  return {
    clock,
    breaker,
    probes,
    closedCount: () => closed,
    setApp: (up: boolean) => {
      appUp = up;
    },
  };
}

describe("app breaker", () => {
  it.each([
    // outcomes recorded, open after
    [["down", "down"], false],
    [["down", "down", "down"], true],
    [["down", "answered", "down", "down"], false],
    [["down", "down", "answered", "down", "down", "down"], true],
    [["answered", "answered", "answered"], false],
  ] as [AppOutcome[], boolean][])("outcomes %j → open %s", (outcomes, open) => {
    const { breaker } = setup();
    for (const outcome of outcomes) breaker.record(outcome);
    expect(breaker.isOpen()).toBe(open);
    expect(breaker.refusal() !== undefined).toBe(open);
  });

  it("open: refuses naming the Organization, probes once per interval, closes and wakes once when the app answers", async () => {
    const { clock, breaker, probes, closedCount, setApp } = setup();
    const openedAt = clock.now();
    for (let i = 0; i < 3; i++) breaker.record("down");
    expect(breaker.refusal()).toContain("Organization ml-platform/acme");
    expect(breaker.refusal()).toContain(new Date(openedAt).toISOString());

    await clock.advance(60_000);
    expect(probes).toEqual(Array.from({ length: 12 }, (_, i) => openedAt + (i + 1) * INTERVAL));
    expect(closedCount()).toBe(0);

    setApp(true);
    await clock.advance(INTERVAL);
    expect(breaker.isOpen()).toBe(false);
    expect(closedCount()).toBe(1);
    const probesWhenClosed = probes.length;
    await clock.advance(60_000);
    expect(probes).toHaveLength(probesWhenClosed);
    expect(closedCount()).toBe(1);
  });

  it("an answer to a request in flight when it opened closes it too", async () => {
    const { breaker, closedCount } = setup(1);
    breaker.record("down");
    expect(breaker.isOpen()).toBe(true);
    breaker.record("answered");
    expect(breaker.isOpen()).toBe(false);
    expect(closedCount()).toBe(1);
  });

  it("stopped: no probe, no wake", async () => {
    const { clock, breaker, probes, closedCount, setApp } = setup(1);
    breaker.record("down");
    breaker.stop();
    setApp(true);
    await clock.advance(60_000);
    expect(probes).toEqual([]);
    expect(closedCount()).toBe(0);
  });

  it.each([
    ["Network", "down"],
    ["Timeout", "down"],
    ["Unavailable", "down"],
    ["RateLimited", "answered"],
    ["Unauthorized", "answered"],
    ["NotFound", "answered"],
    ["Invalid", "answered"],
    ["EgressDenied", undefined],
  ] as const)("an AppError of kind %s counts as %s", (kind, outcome) => {
    expect(outcomeOfError(new AppError({ kind, method: "GET", route: "/api/x/" }))).toBe(outcome);
  });

  it("through the breaker: an open one sends nothing and says AppUnreachable-kind Network", async () => {
    const { breaker } = setup(1);
    let sent = 0;
    const send = async () => {
      sent += 1;
      throw new AppError({ kind: "Unavailable", method: "GET", route: "/api/x/", status: 503 });
    };
    await expect(throughBreaker(breaker, { method: "GET", route: "/api/x/" }, send)).rejects.toThrow("503");
    const refused = throughBreaker(breaker, { method: "GET", route: "/api/x/" }, send);
    await expect(refused).rejects.toMatchObject({ kind: "Network" });
    await expect(refused).rejects.toThrow("ml-platform/acme");
    expect(sent).toBe(1);
  });
});
