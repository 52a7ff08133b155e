// Turns what a credential reaches into status.models: the app's supported models (plus the expected
// ones) marked available or not with a reason, and the expected models that are missing.
import type { ModelAvailability, ModelCheck, ModelReason, ProviderContext } from "./types.ts";
import { MODEL_REASON } from "./types.ts";

/** true when the credential reaches the model, else why not. */
export type Reach = (model: string) => true | ModelReason;

/**
 * For list providers: every supported model, then every expected model the catalogue lacks (reported as
 * NotSupportedByApp, and never probed). A model is available when supported and reached.
 */
export function listedAvailability(
  supported: readonly string[],
  expected: readonly string[],
  reach: Reach,
): { models: ModelAvailability[]; expectedMissing: string[] } {
  const supportedSet = new Set(supported);
  const names = [...new Set([...supported, ...expected])];
  const models = names.map((name): ModelAvailability => {
    if (!supportedSet.has(name)) return { name, available: false, reason: MODEL_REASON.NotSupportedByApp };
    const reached = reach(name);
    return reached === true ? { name, available: true } : { name, available: false, reason: reached };
  });
  const available = new Set(models.filter((m) => m.available).map((m) => m.name));
  return { models, expectedMissing: [...new Set(expected)].filter((name) => !available.has(name)) };
}

/**
 * A list provider's Valid answer: {@link listedAvailability} of `supported` against the expected models, and
 * the sentence `says(count)` for the number of models the credential reaches.
 */
export function validListing(
  ctx: ProviderContext,
  supported: readonly string[],
  reach: Reach,
  says: (count: number) => string,
): ModelCheck {
  const result = listedAvailability(supported, ctx.request.expectedModels ?? [], reach);
  const count = result.models.filter((m) => m.available).length;
  return { outcome: "Valid", message: says(count), ...result };
}

/**
 * For one-deployment providers: the deployment (or custom model name) alone. An expected model is met
 * when the deployment answers and the expectation names the deployment or the model behind it
 * (`gpt-4o` is met by a deployment serving `gpt-4o-2024-11-20`).
 */
export function deploymentAvailability(
  deployment: string,
  reached: true | ModelReason,
  servedModel: string | undefined,
  expected: readonly string[],
): { models: ModelAvailability[]; expectedMissing: string[] } {
  const model: ModelAvailability =
    reached === true
      ? { name: deployment, available: true }
      : { name: deployment, available: false, reason: reached };
  const met = (name: string) =>
    reached === true &&
    (name === deployment || (servedModel !== undefined && isVersionOf(servedModel, name)));
  return { models: [model], expectedMissing: [...new Set(expected)].filter((name) => !met(name)) };
}

/**
 * Whether `id` is the model `name` or a dated snapshot of it: `claude-3-5-haiku-20241022` is a version of
 * `claude-3-5-haiku` and of the alias `claude-3-5-haiku-latest`; `gpt-4o-2024-11-20` of `gpt-4o`.
 */
export function isVersionOf(id: string, name: string): boolean {
  if (id === name) return true;
  const base = name.endsWith("-latest") ? name.slice(0, -"-latest".length) : name;
  if (id === base) return true;
  if (!id.startsWith(`${base}-`)) return false;
  return /^(\d{8}|\d{4}-\d{2}-\d{2}|\d{3,4}|v\d+(:\d+)?)$/.test(id.slice(base.length + 1));
}
