// The background runner of stack updates: one job per stack, never waited for, targets reached once,
// failures retried after backoff (terminal ones only when the target changes), redacted messages.
import { describe, expect, it } from "vitest";
import { ProvisionInputError } from "../../operator/azure/provisioner.ts";
import { StackRunner } from "../../operator/azure/stack-runner.ts";
import { REASON } from "../../operator/constants.ts";
import { TerminalError } from "../../operator/error-policy.ts";
import { FakeClock, settle } from "../support/fake-clock.ts";

function setup() {
  const clock = new FakeClock();
  const settled: string[] = [];
  const runner = new StackRunner({
    clock,
    onSettled: (stack) => settled.push(stack),
    backoff: { baseMs: 1000, maxMs: 4000 },
  });
  return { clock, settled, runner };
}

/** A job the test finishes by hand. */
function held() {
  let finish: (error?: Error) => void = () => {};
  let calls = 0;
  const work = () => {
    calls += 1;
    return new Promise<void>((resolve, reject) => {
      finish = (error) => (error ? reject(error) : resolve());
    });
  };
  return { work, finish: (error?: Error) => finish(error), calls: () => calls };
}

describe("StackRunner", () => {
  it("starts a job without waiting for it, reports Running, then Done once reached", async () => {
    const { runner, settled } = setup();
    const job = held();
    expect(runner.ensure("s", "k1", job.work)).toEqual({ kind: "Running" });
    expect(runner.ensure("s", "k1", job.work)).toEqual({ kind: "Running" });
    expect(job.calls()).toBe(1);
    job.finish();
    await settle();
    expect(settled).toEqual(["s"]);
    expect(runner.ensure("s", "k1", job.work)).toEqual({ kind: "Done" });
    expect(job.calls()).toBe(1);
  });

  it("runs one job per stack: a new target waits until the running job has ended", async () => {
    const { runner } = setup();
    const first = held();
    const second = held();
    runner.ensure("s", "k1", first.work);
    expect(runner.ensure("s", "k2", second.work)).toEqual({ kind: "Running" });
    expect(second.calls()).toBe(0);
    expect(runner.exclusive("s", second.work)).toBe(false);
    // Another stack is not held back.
    const other = held();
    runner.ensure("t", "k1", other.work);
    expect(other.calls()).toBe(1);
    first.finish();
    await settle();
    runner.ensure("s", "k2", second.work);
    expect(second.calls()).toBe(1);
  });

  it("retries a failed target after its backoff (doubling, capped), and says so through onSettled", async () => {
    const { runner, clock, settled } = setup();
    const job = held();
    runner.ensure("s", "k", job.work);
    job.finish(new Error("up failed: token=abc123secret"));
    await settle();
    expect(runner.ensure("s", "k", job.work)).toEqual({
      kind: "Failed",
      message: "up failed: token=[REDACTED]",
      terminal: false,
    });
    settled.length = 0;
    await clock.advance(999);
    expect(settled).toEqual([]);
    await clock.advance(1);
    expect(settled).toEqual(["s"]);
    expect(runner.ensure("s", "k", job.work)).toEqual({ kind: "Running" });
    job.finish(new Error("again"));
    await settle();
    await clock.advance(1999);
    expect(runner.ensure("s", "k", job.work).kind).toBe("Failed");
    await clock.advance(1);
    expect(runner.ensure("s", "k", job.work).kind).toBe("Running");
    expect(job.calls()).toBe(3);
  });

  it("tries a changed target at once, even while the old one backs off", async () => {
    const { runner } = setup();
    const job = held();
    runner.ensure("s", "k1", job.work);
    job.finish(new Error("boom"));
    await settle();
    expect(runner.ensure("s", "k2", job.work)).toEqual({ kind: "Running" });
  });

  it("retries a failed target at once when told an input changed (retryNow), but never a terminal one", async () => {
    const { runner } = setup();
    const job = held();
    runner.ensure("s", "k", job.work);
    job.finish(new Error("passphrase Secret missing"));
    await settle();
    expect(runner.ensure("s", "k", job.work).kind).toBe("Failed");
    runner.retryNow("s");
    expect(runner.ensure("s", "k", job.work)).toEqual({ kind: "Running" });
    expect(job.calls()).toBe(2);
    job.finish(new ProvisionInputError(["deployments: at least one"]));
    await settle();
    runner.retryNow("s");
    expect(runner.ensure("s", "k", job.work)).toMatchObject({ kind: "Failed", terminal: true });
    expect(job.calls()).toBe(2);
  });

  it.each([
    ["an invalid spec", new ProvisionInputError(["deployments: at least one"])],
    ["no engine", new TerminalError(REASON.ProvisionFailed, "no Pulumi engine configured")],
  ])("does not retry %s until the target changes", async (_label, error) => {
    const { runner, clock, settled } = setup();
    const job = held();
    runner.ensure("s", "k", job.work);
    job.finish(error);
    await settle();
    settled.length = 0;
    await clock.advance(60_000);
    expect(settled).toEqual([]);
    expect(runner.ensure("s", "k", job.work)).toMatchObject({ kind: "Failed", terminal: true });
    expect(runner.ensure("s", "k2", job.work)).toEqual({ kind: "Running" });
  });

  it("stop waits for the running job and starts nothing more", async () => {
    const { runner, settled } = setup();
    const job = held();
    runner.ensure("s", "k", job.work);
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    job.finish();
    await stopping;
    expect(settled).toEqual([]);
    expect(runner.exclusive("s", job.work)).toBe(false);
  });
});
