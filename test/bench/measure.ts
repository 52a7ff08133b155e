// What a benchmark reports: named measurements, each with an optional target, and how a target is judged.

/** A bound a measurement must meet: at least (throughput) or at most (time, memory) `value`. */
export interface Target {
  atLeast?: number;
  atMost?: number;
}

/** One number a benchmark produced. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** Absent for numbers reported only for context. */
  target?: Target;
}

/** A benchmark: its name, one line on what it measures, and the run that measures it. */
export interface Bench<Context> {
  name: string;
  description: string;
  run(context: Context): Promise<BenchOutput>;
}

/** What a benchmark run returns: its measurements and any details worth keeping in the JSON results. */
export interface BenchOutput {
  measurements: Measurement[];
  details?: Record<string, unknown>;
}

/** True when the measurement meets its target (or has none). */
export function meetsTarget(m: Measurement): boolean {
  if (!m.target) return true;
  if (m.target.atLeast !== undefined && !(m.value >= m.target.atLeast)) return false;
  if (m.target.atMost !== undefined && !(m.value <= m.target.atMost)) return false;
  return true;
}

/** The target as text: "≥ 10000", "≤ 30", or "" when there is none. */
export function describeTarget(target: Target | undefined): string {
  if (!target) return "";
  const parts: string[] = [];
  if (target.atLeast !== undefined) parts.push(`≥ ${target.atLeast}`);
  if (target.atMost !== undefined) parts.push(`≤ ${target.atMost}`);
  return parts.join(" and ");
}

/** The `p`-th percentile (0..100) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Rounds for display and JSON: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}
