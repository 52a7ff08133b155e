// Reads examples/ for the local sandbox: the placeholder token the app stand-in accepts, and the placeholder
// provider keys and Azure deployments the provider stand-ins accept, so the examples apply unchanged.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { ProviderConnection } from "../crds/index.ts";
import { SHIPPED_CATALOGUE, supportedModels } from "../operator/providers/catalogue.ts";

/** What the stand-ins must accept for the examples to work locally. Placeholders, never real secrets. */
export interface ExampleCredentials {
  /** The Organization Secret's token (examples/organization.yaml). */
  appToken: string;
  openAIKeys: string[];
  geminiKeys: string[];
  anthropicKeys: string[];
  /** Azure OpenAI and Foundry keys (the OpenAI stand-in serves both). */
  azureKeys: string[];
  /** Azure OpenAI and Foundry deployment name → the model the stand-in serves behind it. */
  deployments: Record<string, string>;
}

interface Manifest {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  stringData?: Record<string, string>;
  spec?: ProviderConnection["spec"] & { tokenSecretRef?: { name: string; key: string } };
}

/** The manifest files of `dir` in apply order: the namespace first, then the rest by name. */
export async function exampleFiles(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
  const ordered = files.includes("namespace.yaml")
    ? ["namespace.yaml", ...files.filter((f) => f !== "namespace.yaml")]
    : files;
  return ordered.map((f) => join(dir, f));
}

/**
 * Collects the placeholder credentials of the examples in `dir`.
 * @throws when no Organization's token Secret is found (the sandbox could not be reached then).
 */
export async function exampleCredentials(dir: string): Promise<ExampleCredentials> {
  const manifests: Manifest[] = [];
  for (const file of await exampleFiles(dir)) {
    for (const document of parseAllDocuments(await readFile(file, "utf8"))) {
      const object = document.toJS() as Manifest | null;
      if (object?.kind) manifests.push(object);
    }
  }
  const secrets = new Map(
    manifests
      .filter((m) => m.kind === "Secret")
      .map((m) => [`${m.metadata?.namespace}/${m.metadata?.name}`, m.stringData ?? {}]),
  );
  const value = (namespace: string | undefined, ref: { name: string; key: string } | undefined) =>
    ref ? secrets.get(`${namespace}/${ref.name}`)?.[ref.key] : undefined;

  const organization = manifests.find((m) => m.kind === "Organization");
  const appToken = value(organization?.metadata?.namespace, organization?.spec?.tokenSecretRef);
  if (!appToken) throw new Error(`${dir}: no Organization whose token Secret is among the examples`);

  const found: ExampleCredentials = {
    appToken,
    openAIKeys: [],
    geminiKeys: [],
    anthropicKeys: [],
    azureKeys: [],
    deployments: {},
  };
  const add = (list: string[], key: string | undefined) => {
    if (key && !list.includes(key)) list.push(key);
  };
  for (const m of manifests) {
    if (m.kind !== "ProviderConnection" || !m.spec) continue;
    const ns = m.metadata?.namespace;
    const { spec } = m;
    if (spec.provider === "OpenAI") add(found.openAIKeys, value(ns, spec.openAI?.apiKeySecretRef));
    if (spec.provider === "Gemini") add(found.geminiKeys, value(ns, spec.gemini?.apiKeySecretRef));
    if (spec.provider === "Anthropic") add(found.anthropicKeys, value(ns, spec.anthropic?.apiKeySecretRef));
    const azure = spec.provider === "AzureOpenAI" ? spec.azure : undefined;
    if (azure?.deployment && azure.apiKeySecretRef) {
      add(found.azureKeys, value(ns, azure.apiKeySecretRef));
      found.deployments[azure.deployment] = servedModel(azure.deployment, spec.models);
    }
    const foundry = spec.provider === "AzureAIFoundry" ? spec.azureAIFoundry : undefined;
    if (foundry) {
      add(found.azureKeys, value(ns, foundry.apiKeySecretRef));
      found.deployments[foundry.deployment] = spec.models?.[0] ?? foundry.deployment;
    }
  }
  return found;
}

/**
 * The model behind an Azure OpenAI deployment: the first expected model, else the longest OpenAI catalogue
 * model the deployment's name starts with ("gpt-4o-prod" → "gpt-4o"), else the name itself.
 */
function servedModel(deployment: string, expected: readonly string[] | undefined): string {
  if (expected?.[0]) return expected[0];
  const known = [...(supportedModels(SHIPPED_CATALOGUE, "OpenAI") ?? [])].sort((a, b) => b.length - a.length);
  return known.find((model) => deployment.startsWith(model)) ?? deployment;
}
