// The per-stack queue: one task of a stack at a time, in call order, failures isolated, and different
// stacks never waiting for each other. Tasks are held open by hand, so order is observed, not timed.
import { describe, expect, it } from "vitest";
import { StackQueue } from "../../operator/azure/stack-queue.ts";

/** A task the test finishes by hand, recording when it starts. */
function gate(log: string[], name: string) {
  let open: (value: string) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const task = () => {
    log.push(`start ${name}`);
    return new Promise<string>((resolve, reject) => {
      open = (value) => {
        log.push(`end ${name}`);
        resolve(value);
      };
      fail = (error) => {
        log.push(`fail ${name}`);
        reject(error);
      };
    });
  };
  return { task, open: (value = name) => open(value), fail: (error: Error) => fail(error) };
}

/** Lets every queued promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("StackQueue", () => {
  it("runs one task of a stack at a time, in call order", async () => {
    const queue = new StackQueue();
    const log: string[] = [];
    const [a, b, c] = [gate(log, "a"), gate(log, "b"), gate(log, "c")];
    const results = [queue.run("s", a.task), queue.run("s", b.task), queue.run("s", c.task)];
    await settle();
    expect(log).toEqual(["start a"]);
    expect(queue.pending("s")).toBe(3);
    a.open();
    await settle();
    expect(log).toEqual(["start a", "end a", "start b"]);
    b.open();
    await settle();
    c.open();
    expect(await Promise.all(results)).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    await settle();
    expect(queue.pending("s")).toBe(0);
  });

  it("gives a failure to its caller only and runs the next task", async () => {
    const queue = new StackQueue();
    const log: string[] = [];
    const [a, b] = [gate(log, "a"), gate(log, "b")];
    const first = queue.run("s", a.task);
    const second = queue.run("s", b.task);
    await settle();
    a.fail(new Error("update failed"));
    await expect(first).rejects.toThrow("update failed");
    await settle();
    b.open();
    await expect(second).resolves.toBe("b");
    expect(log).toEqual(["start a", "fail a", "start b", "end b"]);
  });

  it("runs a task that throws synchronously as a failure, not a crash of the queue", async () => {
    const queue = new StackQueue();
    const thrown = queue.run("s", () => {
      throw new Error("sync");
    });
    await expect(thrown).rejects.toThrow("sync");
    await expect(queue.run("s", async () => "next")).resolves.toBe("next");
  });

  it("does not make one stack wait for another", async () => {
    const queue = new StackQueue();
    const log: string[] = [];
    const [slow, fast] = [gate(log, "slow"), gate(log, "fast")];
    const held = queue.run("one", slow.task);
    const other = queue.run("two", fast.task);
    await settle();
    expect(log).toEqual(["start slow", "start fast"]);
    fast.open();
    await expect(other).resolves.toBe("fast");
    expect(log).toEqual(["start slow", "start fast", "end fast"]);
    slow.open();
    await held;
  });
});
