// The ProviderConnection kind: one model-provider connection of an organization, synced into the app.
import { z } from "zod";
import { CelDuration, Conditions, Duration, durationToMs, LocalObjectRef } from "./common.ts";
import {
  ApiKeyBlock,
  AzureAIFoundryBlock,
  AzureBlock,
  CustomBlock,
  VertexAIBlock,
} from "./provider-blocks.ts";

/** The shortest refreshInterval the API server accepts (and the operator applies to older objects). */
export const MIN_REFRESH_INTERVAL_MS = 60_000;

export const PROVIDER_CONNECTION_KIND = "ProviderConnection";
export const PROVIDER_CONNECTION_PLURAL = "providerconnections";

export const PROVIDERS = [
  "OpenAI",
  "Gemini",
  "VertexAI",
  "Anthropic",
  "AzureOpenAI",
  "AzureAIFoundry",
  "Custom",
] as const;
export const Provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof Provider>;

/** The spec block that each provider requires; every other provider's block must be absent. */
export const PROVIDER_BLOCK = {
  OpenAI: "openAI",
  Gemini: "gemini",
  VertexAI: "vertexAI",
  Anthropic: "anthropic",
  AzureOpenAI: "azure",
  AzureAIFoundry: "azureAIFoundry",
  Custom: "custom",
} as const satisfies Record<Provider, string>;

/** The app's rule: these providers have one organization-wide connection; the others one per model. */
export const ORGANIZATION_SCOPED: readonly Provider[] = ["OpenAI", "Gemini", "VertexAI", "Anthropic"];
export type Scope = "Organization" | "Model";
export function scopeOf(provider: Provider): Scope {
  return ORGANIZATION_SCOPED.includes(provider) ? "Organization" : "Model";
}

export const ProviderConnectionSpec = z
  .object({
    organizationRef: LocalObjectRef.meta({
      description: "The Organization (same namespace) this connection belongs to. Immutable.",
      "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "organizationRef is immutable" }],
    }),
    provider: Provider.meta({
      description: "The model provider. Immutable.",
      "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "provider is immutable" }],
    }),
    openAI: ApiKeyBlock("OpenAI").optional(),
    gemini: ApiKeyBlock("Gemini").optional(),
    anthropic: ApiKeyBlock("Anthropic").optional(),
    vertexAI: VertexAIBlock.optional(),
    azure: AzureBlock.optional(),
    azureAIFoundry: AzureAIFoundryBlock.optional(),
    custom: CustomBlock.optional(),
    models: z
      .array(z.string().min(1).max(256))
      .max(64)
      .optional()
      .meta({ description: "The models the users expect; ModelsAvailable reports the missing ones." }),
    deletionPolicy: z
      .enum(["Delete", "Orphan"])
      .default("Delete")
      .meta({ description: "Delete removes the app's record with the connection; Orphan leaves it." }),
    rotationPolicy: z.enum(["Verify", "Immediate"]).optional().meta({
      // The API server fills it in; optional in the type so objects built in code need not (read with rotationPolicyOf).
      default: "Verify",
      description:
        "Verify checks a changed key with the provider before pushing it, and holds a key the provider rejects while the app's current key works (CredentialsValid=False, RotationHeld); a provider that cannot answer never holds it. Immediate pushes first and checks after.",
    }),
    refreshInterval: CelDuration.refine(
      (text) => durationToMs(text) >= MIN_REFRESH_INTERVAL_MS,
      "refreshInterval must be at least 1m",
    )
      .default("1h")
      .meta({
        description: "How often the models are checked again; at least 1m.",
        "x-kubernetes-validations": [
          {
            // A shorter interval would ask the provider several times a second, for every connection, forever.
            rule: "duration(self) >= duration('1m')",
            message: "refreshInterval must be at least 1m",
          },
        ],
      }),
    maxKeyAge: Duration.optional().meta({
      description:
        "How long the key may live since its last rotation (or first sync), e.g. 90d; past it KeyRotationDue=True. @default the Organization's spec.maxKeyAge",
    }),
  })
  .strict()
  .meta({
    description:
      "The desired connection: its organization, its provider, and exactly that provider's block of Secret references.",
    // Exactly the provider's block: one rule per block, so the message names the block at fault.
    "x-kubernetes-validations": PROVIDERS.map((provider) => {
      const block = PROVIDER_BLOCK[provider];
      return {
        rule: `(self.provider == '${provider}') == has(self.${block})`,
        fieldPath: `.${block}`,
        messageExpression: `self.provider == '${provider}' ? 'is required when spec.provider is ${provider}' : 'must not be set when spec.provider is ' + self.provider`,
      };
    }),
  });
export type ProviderConnectionSpec = z.infer<typeof ProviderConnectionSpec>;

export const ModelStatus = z
  .object({
    name: z.string(),
    available: z.boolean(),
    reason: z.string().optional().meta({ description: "Why a model is not available (CamelCase)." }),
  })
  .strict();
export type ModelStatus = z.infer<typeof ModelStatus>;

export const AzureStatus = z
  .object({
    accountName: z.string().optional(),
    endpoint: z.string().optional(),
    deployment: z.string().optional(),
    model: z.string().optional(),
    allowedAddresses: z.array(z.string()).optional(),
    stack: z.string().optional(),
    lastUpdateTime: z.string().optional().meta({ format: "date-time" }),
    lastUpdateResult: z.string().optional(),
    rotateKeyRequestedAt: z.string().optional().meta({
      description: "The last modelkeys.dev/rotate-key-requested-at value whose key rotation finished.",
    }),
    keyRotatedTime: z.string().optional().meta({ format: "date-time" }),
  })
  .strict();

export const ProviderConnectionStatus = z
  .object({
    observedGeneration: z.number().int().optional(),
    scope: z.enum(["Organization", "Model"]).optional(),
    appConnectionId: z.number().int().optional().meta({ description: "The id of the app's record." }),
    organizationId: z.number().int().optional(),
    credentialFingerprint: z
      .string()
      .optional()
      .meta({ description: "sha256: and 12 hex characters of the pushed credential; never the value." }),
    credentialRotatedTime: z.string().optional().meta({ format: "date-time" }),
    heldCredentialFingerprint: z.string().optional().meta({
      description:
        "The fingerprint of a changed credential the provider rejected and the operator did not push (rotationPolicy Verify).",
    }),
    lastSyncTime: z.string().optional().meta({ format: "date-time" }),
    appUpdatedTime: z.string().optional().meta({
      description:
        "The app record's updated_at after the operator's last write: a later one means a change made in the app.",
    }),
    appRefreshedTime: z.string().optional().meta({
      description:
        "The app record's updated_at after the app rewrote cached_available_models itself (not a change to restore).",
    }),
    appCachedAvailableModels: z.string().max(4096).optional().meta({
      description:
        "What the operator last wrote to the app's cached_available_models; written again only when its own check result changes.",
    }),
    models: z.array(ModelStatus).optional(),
    availableModels: z.number().int().optional(),
    modelsCheckedTime: z.string().optional().meta({ format: "date-time" }),
    modelsCheckedGeneration: z.number().int().optional().meta({
      description:
        "The spec generation the models were last checked for; a newer generation is checked again, even one made while the connection was blocked.",
    }),
    refreshRequestedAt: z.string().optional().meta({ description: "The last on-demand refresh handled." }),
    syncRequestedAt: z.string().optional().meta({
      description:
        "The last modelkeys.dev/sync-requested-at value handled (the record and key were written again).",
    }),
    azure: AzureStatus.optional(),
    conditions: Conditions.optional(),
  })
  .meta({ description: "What the operator observed and pushed." });
export type ProviderConnectionStatus = z.infer<typeof ProviderConnectionStatus>;
