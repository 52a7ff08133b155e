// Reads examples/ for the local sandbox: the placeholder token the app stand-in accepts, and the placeholder
// provider keys and Azure deployments the provider stand-ins accept, so the examples apply unchanged; and the
// examples as applied locally (a Vertex key that really signs, provisioned Azure left out and why).
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
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
  /** Custom connections: their endpoints, keys and model names, for a local OpenAI-format server. */
  custom: { endpoints: string[]; keys: string[]; models: string[] };
  /** Vertex AI connections' key files: where each lives, and the project and account they name. */
  vertexKeyFiles: { namespace: string; secret: string; key: string; projectId: string; email: string }[];
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
    custom: { endpoints: [], keys: [], models: [] },
    vertexKeyFiles: [],
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
    const custom = spec.provider === "Custom" ? spec.custom : undefined;
    if (custom) {
      add(found.custom.endpoints, custom.endpoint);
      add(found.custom.keys, value(ns, custom.apiKeySecretRef) ?? value(ns, custom.authTokenSecretRef));
      add(found.custom.models, custom.name);
    }
    const vertexRef = spec.provider === "VertexAI" ? spec.vertexAI?.credentialsSecretRef : undefined;
    const keyFile = vertexRef ? parseKeyFile(value(ns, vertexRef)) : undefined;
    if (vertexRef && ns) {
      found.vertexKeyFiles.push({
        namespace: ns,
        secret: vertexRef.name,
        key: vertexRef.key,
        projectId: spec.vertexAI?.projectId ?? keyFile?.project_id ?? "sandbox",
        email:
          keyFile?.client_email ?? `sandbox@${spec.vertexAI?.projectId ?? "sandbox"}.iam.gserviceaccount.com`,
      });
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

function parseKeyFile(text: string | undefined): { project_id?: string; client_email?: string } | undefined {
  try {
    return text ? (JSON.parse(text) as { project_id?: string; client_email?: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** An example file left out of the local environment, and the one-line reason. */
export interface SkippedExample {
  file: string;
  reason: string;
}

/** The examples as the local environment applies them: one YAML stream, and what it leaves out. */
export interface LocalExamples {
  manifests: string;
  applied: string[];
  skipped: SkippedExample[];
}

/**
 * The examples of `dir` for the local environment. A file holding an AzureOpenAIAccount or a provisioned Azure
 * OpenAI connection is left out (provisioning needs an Azure subscription and the Pulumi engine, which the local environment has neither
 * of); each Vertex AI key file is replaced by `keyFiles` (generated at start, so its key really signs).
 */
export async function localExamples(
  dir: string,
  keyFiles: ReadonlyMap<string, string>,
): Promise<LocalExamples> {
  const documents: unknown[] = [];
  const applied: string[] = [];
  const skipped: SkippedExample[] = [];
  for (const file of await exampleFiles(dir)) {
    const objects = parseAllDocuments(await readFile(file, "utf8"))
      .map((d) => d.toJS() as Manifest | null)
      .filter((o): o is Manifest => Boolean(o?.kind));
    const provisions = (o: Manifest) =>
      o.kind === "AzureOpenAIAccount" || (o.kind === "ProviderConnection" && o.spec?.azure?.provision);
    if (objects.some(provisions)) {
      skipped.push({
        file: basename(file),
        reason:
          "provisioning an Azure OpenAI account needs an Azure subscription and the Pulumi engine; the local environment has neither",
      });
      continue;
    }
    for (const object of objects) {
      const id = `${object.metadata?.namespace}/${object.metadata?.name}`;
      if (object.kind === "Secret" && object.stringData) {
        for (const key of Object.keys(object.stringData)) {
          const replacement = keyFiles.get(`${id}/${key}`);
          if (replacement !== undefined) object.stringData[key] = replacement;
        }
      }
      documents.push(object);
    }
    applied.push(basename(file));
  }
  return { manifests: documents.map((d) => stringify(d)).join("---\n"), applied, skipped };
}
