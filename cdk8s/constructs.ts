// Typed cdk8s constructs for users who author modelkeys objects in TypeScript: thin wrappers over the
// constructs that `cdk8s import` generated from our CRDs, checked against the zod schemas at synth time.

// The API by its package name, as the published @modelkeys/cdk8s imports it; in this repository tsconfig
// `paths` (and vitest's alias) map it to crds/index.ts.
import {
  AzureOpenAIAccountSpec,
  OrganizationSpec,
  type Provider,
  ProviderConnectionSpec,
} from "@modelkeys/api";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import type { z } from "zod";
import {
  AzureOpenAiAccount,
  type AzureOpenAiAccountSpec,
  Organization,
  type OrganizationSpecTls,
  ProviderConnection,
  type ProviderConnectionSpecAnthropic,
  type ProviderConnectionSpecAzure,
  type ProviderConnectionSpecAzureAiFoundry,
  type ProviderConnectionSpecCustom,
  ProviderConnectionSpecDeletionPolicy,
  type ProviderConnectionSpecGemini,
  type ProviderConnectionSpecOpenAi,
  ProviderConnectionSpecProvider,
  type ProviderConnectionSpecVertexAi,
} from "./imports/modelkeys.dev.ts";

export * as imports from "./imports/modelkeys.dev.ts";

/** A key of a Secret in the object's own namespace. */
export interface SecretKeySelector {
  readonly name: string;
  readonly key: string;
}

/** Metadata every modelkeys construct takes. */
export interface ModelkeysMetadataProps {
  /**
   * metadata.name.
   * @default the construct id
   */
  readonly name?: string;
  /**
   * metadata.namespace.
   * @default the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Labels.
   * @default none
   */
  readonly labels?: Record<string, string>;
  /**
   * Annotations (e.g. modelkeys.dev/sync-requested-at).
   * @default none
   */
  readonly annotations?: Record<string, string>;
}

/** Props of {@link ModelkeysOrganization}. */
export interface ModelkeysOrganizationProps extends ModelkeysMetadataProps {
  /** Base URL of the Label Studio instance. */
  readonly url: string;
  /** The Secret key holding an owner's or administrator's API token. */
  readonly tokenSecretRef: SecretKeySelector;
  /**
   * Pins the organization: must equal the token owner's active organization.
   * @default not pinned
   */
  readonly organizationId?: number;
  /**
   * Adopt records that already exist in the app for one-per-organization providers.
   * @default false
   */
  readonly adoptExisting?: boolean;
  /**
   * TLS options.
   * @default certificates verified against the system roots
   */
  readonly tls?: OrganizationSpecTls;
}

/** Builds ObjectMeta from the common props; an explicit name keeps cdk8s from hashing one. */
function metadata(id: string, props: ModelkeysMetadataProps) {
  return {
    name: props.name ?? id,
    ...(props.namespace ? { namespace: props.namespace } : {}),
    ...(props.labels ? { labels: props.labels } : {}),
    ...(props.annotations ? { annotations: props.annotations } : {}),
  };
}

/** The zod issues of a spec as "path: message" lines; empty when valid. */
function issues(schema: z.ZodType, spec: unknown, what: string): string[] {
  const result = schema.safeParse(spec);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${what}: spec.${issue.path.join(".")}: ${issue.message}`);
}

/** The namespace an object synthesizes into: its own, else its chart's. */
function namespaceOf(object: Organization | ProviderConnection | AzureOpenAiAccount): string | undefined {
  return object.metadata.namespace ?? Chart.of(object).namespace;
}

/**
 * An Organization: one Label Studio organization, reached through its API.
 *
 * Guarantees: synthesis fails with a message naming the field when the spec breaks the zod schema.
 */
export class ModelkeysOrganization extends Organization {
  constructor(scope: Construct, id: string, props: ModelkeysOrganizationProps) {
    super(scope, id, {
      metadata: metadata(id, props),
      spec: {
        url: props.url,
        tokenSecretRef: props.tokenSecretRef,
        ...(props.organizationId !== undefined ? { organizationId: props.organizationId } : {}),
        ...(props.adoptExisting !== undefined ? { adoptExisting: props.adoptExisting } : {}),
        ...(props.tls ? { tls: props.tls } : {}),
      },
    });
    this.node.addValidation({
      validate: () => issues(OrganizationSpec, this.toJson().spec, `Organization ${this.name}`),
    });
  }

  /** The namespace this Organization synthesizes into. */
  get namespace(): string | undefined {
    return namespaceOf(this);
  }
}

/** What every ProviderConnection takes besides its provider's block. */
export interface ModelkeysConnectionCommonProps extends ModelkeysMetadataProps {
  /** The Organization, as a construct or by name; it must live in the connection's namespace. */
  readonly organization: ModelkeysOrganization | string;
  /**
   * The models the users expect; ModelsAvailable reports the missing ones.
   * @default none (every model the credential reaches)
   */
  readonly models?: readonly string[];
  /**
   * Delete removes the app's record with the connection; Orphan leaves it.
   * @default "Delete"
   */
  readonly deletionPolicy?: "Delete" | "Orphan";
  /**
   * How often the models are checked again, e.g. 30m or 1h.
   * @default "1h"
   */
  readonly refreshInterval?: string;
}

/** The provider and exactly its block: the compiler rejects a missing or a foreign block. */
export type ModelkeysConnectionProviderProps =
  | { readonly provider: "OpenAI"; readonly openAI: ProviderConnectionSpecOpenAi }
  | { readonly provider: "Gemini"; readonly gemini: ProviderConnectionSpecGemini }
  | { readonly provider: "Anthropic"; readonly anthropic: ProviderConnectionSpecAnthropic }
  | { readonly provider: "VertexAI"; readonly vertexAI: ProviderConnectionSpecVertexAi }
  | { readonly provider: "AzureOpenAI"; readonly azure: ProviderConnectionSpecAzure }
  | { readonly provider: "AzureAIFoundry"; readonly azureAIFoundry: ProviderConnectionSpecAzureAiFoundry }
  | { readonly provider: "Custom"; readonly custom: ProviderConnectionSpecCustom };

/** Props of {@link ModelkeysConnection}. */
export type ModelkeysConnectionProps = ModelkeysConnectionCommonProps & ModelkeysConnectionProviderProps;

const PROVIDER: Record<Provider, ProviderConnectionSpecProvider> = {
  OpenAI: ProviderConnectionSpecProvider.OPEN_AI,
  Gemini: ProviderConnectionSpecProvider.GEMINI,
  VertexAI: ProviderConnectionSpecProvider.VERTEX_AI,
  Anthropic: ProviderConnectionSpecProvider.ANTHROPIC,
  AzureOpenAI: ProviderConnectionSpecProvider.AZURE_OPEN_AI,
  AzureAIFoundry: ProviderConnectionSpecProvider.AZURE_AI_FOUNDRY,
  Custom: ProviderConnectionSpecProvider.CUSTOM,
};

/** The imported spec's camel-cased block fields (openAi, vertexAi, …) from the API's names. */
function providerBlock(props: ModelkeysConnectionProviderProps) {
  switch (props.provider) {
    case "OpenAI":
      return { openAi: props.openAI };
    case "Gemini":
      return { gemini: props.gemini };
    case "Anthropic":
      return { anthropic: props.anthropic };
    case "VertexAI":
      return { vertexAi: props.vertexAI };
    case "AzureOpenAI":
      return { azure: props.azure };
    case "AzureAIFoundry":
      return { azureAiFoundry: props.azureAIFoundry };
    case "Custom":
      return { custom: props.custom };
  }
}

/**
 * A ProviderConnection: one model-provider connection of an organization, synced into the app.
 *
 * Guarantees: synthesis fails with a message naming the field when the spec breaks the zod schema, or
 * when the Organization construct lives in another namespace.
 */
export class ModelkeysConnection extends ProviderConnection {
  constructor(scope: Construct, id: string, props: ModelkeysConnectionProps) {
    const organization =
      typeof props.organization === "string" ? props.organization : props.organization.name;
    super(scope, id, {
      metadata: metadata(id, props),
      spec: {
        organizationRef: { name: organization },
        provider: PROVIDER[props.provider],
        ...providerBlock(props),
        ...(props.models ? { models: [...props.models] } : {}),
        ...(props.deletionPolicy
          ? {
              deletionPolicy:
                props.deletionPolicy === "Orphan"
                  ? ProviderConnectionSpecDeletionPolicy.ORPHAN
                  : ProviderConnectionSpecDeletionPolicy.DELETE,
            }
          : {}),
        ...(props.refreshInterval ? { refreshInterval: props.refreshInterval } : {}),
      },
    });
    this.node.addValidation({
      validate: () => {
        const found = issues(ProviderConnectionSpec, this.toJson().spec, `ProviderConnection ${this.name}`);
        if (typeof props.organization !== "string" && props.organization.namespace !== namespaceOf(this)) {
          found.push(
            `ProviderConnection ${this.name}: spec.organizationRef: Organization ${organization} is in namespace ` +
              `${props.organization.namespace ?? "(none)"}, the connection in ${namespaceOf(this) ?? "(none)"}`,
          );
        }
        return found;
      },
    });
  }
}

/** Props of {@link ModelkeysAzureOpenAIAccount}. */
export interface ModelkeysAzureOpenAIAccountProps extends ModelkeysMetadataProps {
  /**
   * The account: its Azure settings and network rules (the shared schema of the Pulumi component), credentials,
   * deletion policy and state backend; each field's doc comment comes from the schema's description.
   */
  readonly spec: AzureOpenAiAccountSpec;
}

/**
 * An AzureOpenAIAccount: one Azure OpenAI account the operator provisions, with a deployment for each
 * ProviderConnection that names it.
 *
 * Guarantees: synthesis fails with a message naming the field when the spec breaks the zod schema (the same
 * rules the API server applies in CEL: IP rules, private ranges, subnet IDs, one kind of credentials).
 */
export class ModelkeysAzureOpenAIAccount extends AzureOpenAiAccount {
  constructor(scope: Construct, id: string, props: ModelkeysAzureOpenAIAccountProps) {
    super(scope, id, { metadata: metadata(id, props), spec: props.spec });
    this.node.addValidation({
      validate: () => issues(AzureOpenAIAccountSpec, this.toJson().spec, `AzureOpenAIAccount ${this.name}`),
    });
  }

  /** The namespace this account synthesizes into. */
  get namespace(): string | undefined {
    return namespaceOf(this);
  }
}
