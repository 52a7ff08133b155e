// Benchmark (a): how many plans per second planConnection makes over a fixed mix of observed states — the pure
// core of every reconcile, with no I/O around it.
import { PROVIDERS, type Provider } from "../../crds/index.ts";
import { REASON } from "../../operator/constants.ts";
import type { ModelCheck } from "../../operator/providers/types.ts";
import { planConnection } from "../../operator/reconcile/plan.ts";
import { nextStatus } from "../../operator/reconcile/status.ts";
import type { ObservedConnection } from "../../operator/reconcile/types.ts";
import { applied, connection, FP_B, NOW, observe } from "../unit/fixtures/connection.ts";
import { type Bench, percentile, round } from "./measure.ts";

const ORGANIZATION_WIDE: readonly Provider[] = ["OpenAI", "Gemini", "VertexAI", "Anthropic"];
const ROUNDS = 7;
const ROUND_MS = 300;
const WARMUP_MS = 300;

function validCheck(provider: Provider): ModelCheck {
  return provider === "Custom"
    ? {
        outcome: "Valid",
        message: "the endpoint answers in JSON mode",
        models: [{ name: "llama3.1:8b", available: true }],
        openAICompatible: true,
        jsonMode: true,
      }
    : {
        outcome: "Valid",
        message: "the credential is valid",
        models: [
          { name: "gpt-4o", available: true },
          { name: "gpt-4.1", available: true },
        ],
      };
}

/** The observed states of one provider's connection across its life: new, first sync, steady, changes, end. */
function statesOf(provider: Provider): ObservedConnection[] {
  const check = validCheck(provider);
  const first = observe(connection({ provider }), { modelCheck: check });
  const firstPlan = planConnection(first);
  const { result, record } = applied(firstPlan, undefined, { updatedAt: NOW.toISOString() });
  if (!record) throw new Error(`bench fixture: the first ${provider} sync wrote no record`);
  const synced = { ...first.connection, status: nextStatus(first.connection, firstPlan, result, NOW) };
  const { appConnectionId: _id, ...statusWithoutId } = synced.status;
  const states: ObservedConnection[] = [
    observe(connection({ provider, finalizers: [] })),
    first,
    observe(synced, { app: { kind: "ById", record } }),
    observe(synced, { app: { kind: "ById", record }, credential: { kind: "Ready", fingerprint: FP_B } }),
    observe(synced, { app: { kind: "ById", record: undefined }, modelCheck: check }),
    observe({ ...synced, status: statusWithoutId }, { app: { kind: "Listed", records: [record] } }),
    observe(connection({ provider, deletionTimestamp: NOW.toISOString(), status: synced.status }), {
      app: { kind: "ById", record },
    }),
    observe(synced, {
      organization: { kind: "NotReady", reason: REASON.OrganizationNotFound, message: "not found" },
    }),
  ];
  if (ORGANIZATION_WIDE.includes(provider)) {
    states.push(
      observe(connection({ provider, name: "younger", creationTimestamp: "2026-11-10T00:00:00Z" }), {
        siblings: [{ name: "older", creationTimestamp: "2026-11-01T00:00:00Z" }],
      }),
    );
  }
  return states;
}

/** planConnection over every provider's states, repeated; reports the median rate of several rounds. */
export const planThroughput: Bench<unknown> = {
  name: "plan-throughput",
  description: "planConnection plans per second over a fixed mix of observed states (pure, one core)",
  async run() {
    const states = PROVIDERS.flatMap(statesOf);
    // A mix that never creates, updates or deletes would measure the wrong thing.
    const kinds = new Map<string, number>();
    for (const s of states) {
      const plan = planConnection(s);
      const kind =
        plan.app.kind !== "none" || plan.finalizer === "keep" ? plan.app.kind : `finalizer-${plan.finalizer}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    for (const kind of ["create", "update", "delete", "none", "finalizer-add"]) {
      if (!kinds.has(kind)) throw new Error(`bench fixture: no state plans "${kind}" (${[...kinds.keys()]})`);
    }

    let sink = 0;
    const spin = (ms: number): number => {
      let plans = 0;
      const started = performance.now();
      while (performance.now() - started < ms) {
        for (const s of states) sink += planConnection(s).conditions.length;
        plans += states.length;
      }
      return plans / ((performance.now() - started) / 1000);
    };
    spin(WARMUP_MS);
    const rates: number[] = [];
    for (let i = 0; i < ROUNDS; i++) rates.push(spin(ROUND_MS));
    if (sink === 0) throw new Error("bench: plans made no conditions");
    const median = percentile(rates, 50);
    return {
      measurements: [
        {
          name: "plans per second (median)",
          value: round(median),
          unit: "plans/s",
          target: { atLeast: 50_000 },
        },
        { name: "plans per second (slowest round)", value: round(Math.min(...rates)), unit: "plans/s" },
        { name: "time per plan (median)", value: round(1e6 / median), unit: "µs" },
      ],
      details: { states: states.length, planKinds: Object.fromEntries(kinds), rounds: rates.map(round) },
    };
  },
};
