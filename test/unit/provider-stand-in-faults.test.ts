// The stand-ins' injected faults: several at once, each for its own requests (by path or by predicate),
// with skip and times counted per fault.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIBehaviour, startOpenAIStandIn } from "../../local/providers/openai.ts";
import { bearer, type StandIn } from "../../local/providers/stand-in.ts";

let standIn: StandIn<OpenAIBehaviour>;
const KEYS = ["sk-fault-a-123456", "sk-fault-b-123456", "sk-fault-c-123456"];

const list = async (key: string) =>
  (await fetch(`${standIn.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ host: "127.0.0.1" }, { keys: KEYS });
});
afterAll(() => standIn.stop());

describe("faults", () => {
  it("answers each key's fault only to that key's requests", async () => {
    standIn.set({
      fault: undefined,
      faults: [
        { status: 429, match: (r) => bearer(r) === KEYS[0] },
        { status: 503, match: (r) => bearer(r) === KEYS[1] },
      ],
    });
    expect(await Promise.all(KEYS.map(list))).toEqual([429, 503, 200]);
  });

  it("checks `fault` before `faults`", async () => {
    standIn.set({ fault: { status: 500 }, faults: [{ status: 429 }] });
    expect(await list(KEYS[2] as string)).toBe(500);
  });

  it("counts skip and times per fault, and drops a fault whose times ran out", async () => {
    standIn.set({
      fault: undefined,
      faults: [
        { status: 503, times: 1, match: (r) => bearer(r) === KEYS[0] },
        { status: 429, skip: 1, match: (r) => bearer(r) === KEYS[1] },
      ],
    });
    const a = KEYS[0] as string;
    const b = KEYS[1] as string;
    expect([await list(a), await list(a)]).toEqual([503, 200]);
    expect([await list(b), await list(b)]).toEqual([200, 429]);
    expect(standIn.behaviour.faults).toHaveLength(1);
  });

  it("records when each request arrived", async () => {
    const before = Date.now();
    standIn.set({ faults: undefined });
    standIn.clearRequests();
    await list(KEYS[2] as string);
    const at = standIn.requests[0]?.at ?? 0;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
