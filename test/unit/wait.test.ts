// waitFor: polls until a value appears, treats throws as "not yet", and fails with the description at the deadline.
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait.ts";

describe("waitFor", () => {
  it("returns the first value that is not undefined, null or false", async () => {
    const answers = [undefined, null, false, 0, 1];
    let calls = 0;
    const value = await waitFor(() => answers[calls++], { intervalMs: 1 });
    expect({ value, calls }).toEqual({ value: 0, calls: 4 });
  });

  it("counts a throwing probe as not yet", async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls < 3) throw new Error("not ready");
        return "ready";
      },
      { intervalMs: 1 },
    );
    expect({ value, calls }).toEqual({ value: "ready", calls: 3 });
  });

  it("fails at the deadline naming what it waited for and the last error", async () => {
    const waiting = waitFor(
      () => {
        throw new Error("connection refused");
      },
      { timeoutMs: 50, intervalMs: 5, description: "the API server" },
    );
    await expect(waiting).rejects.toThrow(
      /timed out after 50 ms waiting for the API server.*connection refused/,
    );
  });
});
