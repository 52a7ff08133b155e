// The app's supported base models per provider: versioned data in catalogue.v1.json, overridable at run
// time by YAML or JSON text (a ConfigMap key) that replaces or edits each provider's list.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Provider } from "../../crds/providerconnection.ts";
import shipped from "./catalogue.v1.json" with { type: "json" };

const ModelName = z.string().min(1).max(256).regex(/^\S+$/, "a model name has no whitespace");
const ModelList = z.array(ModelName).max(256);

/** A provider whose credential reaches a list of models; the app supports these. */
const ListedModels = z.object({ models: ModelList }).strict();
/** A provider where each connection is one deployment (or one custom model). */
const PerDeployment = z
  .object({ perDeployment: z.enum(["chat", "any"]), description: z.string().max(512).optional() })
  .strict();

const CatalogueFile = z
  .object({
    schema: z.literal(1),
    version: z.string().min(1).max(64),
    updated: z.iso.date(),
    source: z.string().max(512).optional(),
    providers: z
      .object({
        OpenAI: ListedModels,
        Gemini: ListedModels,
        VertexAI: ListedModels,
        Anthropic: ListedModels,
        AzureOpenAI: PerDeployment,
        AzureAIFoundry: PerDeployment,
        Custom: PerDeployment,
      })
      .strict(),
  })
  .strict();

/** Per listed provider: `models` replaces the list; `add`/`remove` edit it. */
const ListOverride = z
  .object({ models: ModelList.optional(), add: ModelList.optional(), remove: ModelList.optional() })
  .strict()
  .refine((o) => !(o.models && (o.add || o.remove)), {
    message: "use either models (replace) or add/remove (edit), not both",
  });

const CatalogueOverride = z
  .object({
    schema: z.literal(1).optional(),
    version: z.string().min(1).max(64).optional(),
    updated: z.iso.date().optional(),
    source: z.string().max(512).optional(),
    providers: z
      .object({
        OpenAI: ListOverride.optional(),
        Gemini: ListOverride.optional(),
        VertexAI: ListOverride.optional(),
        Anthropic: ListOverride.optional(),
        AzureOpenAI: PerDeployment.optional(),
        AzureAIFoundry: PerDeployment.optional(),
        Custom: PerDeployment.optional(),
      })
      .strict(),
  })
  .strict();

/** The catalogue in force: the shipped data, possibly with an override applied. */
export type Catalogue = z.infer<typeof CatalogueFile>;

/** An override that does not parse or validate; the message names each offending field. */
export class CatalogueError extends Error {
  override readonly name = "CatalogueError";
}

/** The catalogue shipped with this release (validated at load, so a bad edit fails every test). */
export const SHIPPED_CATALOGUE: Catalogue = Object.freeze(
  validate(CatalogueFile, shipped, "catalogue.v1.json"),
);

/**
 * Returns the catalogue in force: the shipped one, or the shipped one with `override` applied.
 * `override` is YAML or JSON text `{version?, updated?, providers: {OpenAI: {models | add/remove}, ...}}`;
 * a provider it names is replaced (models) or edited (add, remove); the others keep the shipped data.
 * The result's version is the override's, else `<shipped>+override`.
 * Throws CatalogueError (message names the fields) for text that does not parse or validate.
 */
export function loadCatalogue(override?: string): Catalogue {
  if (override === undefined || override.trim() === "") return SHIPPED_CATALOGUE;
  let data: unknown;
  try {
    data = parseYaml(override);
  } catch (error) {
    throw new CatalogueError(
      `catalogue override is not YAML or JSON: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  return applyOverride(SHIPPED_CATALOGUE, validate(CatalogueOverride, data, "catalogue override"));
}

function applyOverride(base: Catalogue, override: z.infer<typeof CatalogueOverride>): Catalogue {
  const providers = { ...base.providers };
  const edit = (current: string[], o: z.infer<typeof ListOverride>): string[] => {
    if (o.models) return unique(o.models);
    const removed = new Set(o.remove ?? []);
    return unique([...current, ...(o.add ?? [])]).filter((m) => !removed.has(m));
  };
  for (const name of ["OpenAI", "Gemini", "VertexAI", "Anthropic"] as const) {
    const o = override.providers[name];
    if (o) providers[name] = { models: edit(base.providers[name].models, o) };
  }
  for (const name of ["AzureOpenAI", "AzureAIFoundry", "Custom"] as const) {
    const o = override.providers[name];
    if (o) providers[name] = o;
  }
  return {
    ...base,
    version: override.version ?? `${base.version}+override`,
    updated: override.updated ?? base.updated,
    providers,
  };
}

/** The models the app supports for a list provider; undefined for per-deployment providers. */
export function supportedModels(catalogue: Catalogue, provider: Provider): readonly string[] | undefined {
  const entry = catalogue.providers[provider];
  return "models" in entry ? entry.models : undefined;
}

function validate<T extends z.ZodType>(schema: T, data: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
  throw new CatalogueError(`${what} is invalid: ${lines.join("; ")}`);
}

/** "providers.OpenAI.models[2]", or "(root)" for the top level. */
function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("");
}

function unique(models: readonly string[]): string[] {
  return [...new Set(models)];
}
