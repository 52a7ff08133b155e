// The in-flight bound of the API server transport, over a dispatcher that records what it is asked to send: a
// request that waited for room starts once an answer frees it, and never from inside that answer's callback
// (undici asserts that a connection that failed to connect has nothing queued after it failed each request).
import type { Dispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { AdaptiveLimit } from "../../operator/kube/adaptive-limit.ts";
import { inFlightLimit } from "../../operator/kube/transport.ts";

interface Sent {
  path: string;
  handler: Dispatcher.DispatchHandler;
  /** Whether it was dispatched while another request's callback was running. */
  duringCallback: boolean;
}

function recordingDispatcher() {
  const sent: Sent[] = [];
  let inCallback = false;
  const dispatch = ((opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
    sent.push({ path: opts.path, handler, duringCallback: inCallback });
    return true;
  }) as Dispatcher.Dispatch;
  /** Runs an answer's callback as undici does, noting any dispatch made meanwhile. */
  const callback = (run: () => void) => {
    inCallback = true;
    try {
      run();
    } finally {
      inCallback = false;
    }
  };
  return { sent, dispatch, callback };
}

const noop: Dispatcher.DispatchHandler = {};
const request = (path: string): Dispatcher.DispatchOptions => ({
  path,
  method: "GET",
  origin: "https://api",
});
const controller = {} as Dispatcher.DispatchController;
/** Lets queued microtasks run (the bound starts the next request in one). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("in-flight bound", () => {
  it("starts a waiting request after a failed request's callback has returned, not inside it", async () => {
    const { sent, dispatch, callback } = recordingDispatcher();
    const bounded = inFlightLimit(new AdaptiveLimit(2))(dispatch);
    for (const path of ["/a", "/b", "/c", "/d"]) bounded(request(path), noop);
    expect(sent.map((s) => s.path)).toEqual(["/a", "/b"]);

    // The connection fails: undici fails each request queued on it, one callback after the other.
    callback(() => {
      for (const s of [...sent]) s.handler.onResponseError?.(controller, new Error("connect ECONNRESET"));
    });
    expect(sent.map((s) => s.path)).toEqual(["/a", "/b"]);

    await settle();
    expect(sent.map((s) => s.path)).toEqual(["/a", "/b", "/c", "/d"]);
    expect(sent.some((s) => s.duringCallback)).toBe(false);
  });

  it("keeps arrival order: a request arriving while others wait queues behind them", async () => {
    const { sent, dispatch, callback } = recordingDispatcher();
    const bounded = inFlightLimit(new AdaptiveLimit(1))(dispatch);
    bounded(request("/a"), noop);
    bounded(request("/b"), noop);
    callback(() => sent[0]?.handler.onResponseEnd?.(controller, {}));
    // Room is free, but /b waits for it: /c must not overtake it.
    bounded(request("/c"), noop);
    await settle();
    expect(sent.map((s) => s.path)).toEqual(["/a", "/b"]);
    callback(() => sent[1]?.handler.onResponseEnd?.(controller, {}));
    await settle();
    expect(sent.map((s) => s.path)).toEqual(["/a", "/b", "/c"]);
  });
});
