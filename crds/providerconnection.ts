// The ProviderConnection kind: one model-provider connection of an organization, synced into the app.
import { z } from "zod";
import { Conditions, Duration, LocalObjectRef, SecretKeyRef } from "./common.ts";

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

const httpsUrl = (description: string) =>
  z
    .string()
    .min(1)
    .max(512)
    .meta({
      description,
      "x-kubernetes-validations": [
        {
          rule: "isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",
          message: "must be an https URL",
        },
      ],
    });

const ApiKeyBlock = (provider: string) =>
  z
    .object({
      apiKeySecretRef: SecretKeyRef.meta({ description: `The Secret key holding the ${provider} API key.` }),
    })
    .strict()
    .meta({
      description: `${provider}: an API key, for one connection of the whole organization. Set exactly when provider is ${provider}.`,
    });

const deploymentName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
  .meta({ description: "The deployment name (not the model name); the app calls the deployment by it." });

const ipOrCidr = z
  .string()
  .max(43)
  .meta({
    description: "An IPv4 address or CIDR range.",
    "x-kubernetes-validations": [
      {
        rule: "(isIP(self) && ip(self).family() == 4) || (isCIDR(self) && cidr(self).ip().family() == 4)",
        message: "must be an IPv4 address or CIDR range, e.g. 203.0.113.7 or 203.0.113.0/24",
      },
    ],
  });

/** Reserved for the provisioning path: the operator creates the Azure OpenAI account and deployment. */
export const AzureProvision = z
  .object({
    account: z
      .object({
        name: z
          .string()
          .min(2)
          .max(64)
          .regex(/^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$/)
          .meta({
            description: "The Cognitive Services account; connections naming the same account share it.",
          }),
        resourceGroup: z.string().min(1).max(90).meta({ description: "The Azure resource group." }),
        createResourceGroup: z.boolean().default(false).meta({ description: "Create the resource group." }),
        location: z.string().min(1).max(64).meta({ description: "Azure region, e.g. eastus." }),
        customSubDomainName: z
          .string()
          .min(2)
          .max(64)
          .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/)
          .optional()
          .meta({ description: "Subdomain of https://<name>.openai.azure.com/. @default the account name" }),
        publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
        sku: z.string().default("S0"),
        subscriptionId: z.string().max(64).optional(),
        credentialsSecretRef: LocalObjectRef.optional().meta({
          description:
            "A Secret with a service principal (clientId, clientSecret, tenantId, subscriptionId). @default the operator's workload identity",
        }),
      })
      .strict(),
    deployment: z
      .object({
        // Azure caps deployment names at 64 characters (the app's field allows 512).
        name: deploymentName.max(64).optional().meta({
          description: "The Azure deployment's name, at most 64 characters. @default the connection's name",
        }),
        model: z.string().min(1).max(128).meta({ description: "The OpenAI model, e.g. gpt-4o." }),
        version: z.string().min(1).max(64).meta({ description: "The model version, e.g. 2024-11-20." }),
        sku: z
          .object({
            name: z.string().min(1).max(64).default("Standard"),
            capacity: z.number().int().min(1).max(100000).default(10),
          })
          .strict()
          .default({ name: "Standard", capacity: 10 }),
        versionUpgradeOption: z
          .enum(["OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade"])
          .optional(),
      })
      .strict(),
    allowedAddresses: z.array(ipOrCidr).max(100).default([]).meta({
      description: "Addresses allowed besides the app's own (3.219.3.197, 34.237.73.3, 44.216.17.242).",
    }),
    virtualNetworkSubnetIds: z.array(z.string().min(1).max(1024)).max(100).default([]),
  })
  .strict();

export const AzureBlock = z
  .object({
    deployment: deploymentName.optional(),
    endpoint: httpsUrl("The resource endpoint, e.g. https://acme.openai.azure.com/.").optional(),
    apiKeySecretRef: SecretKeyRef.optional().meta({
      description: "The Secret key holding the resource's API key.",
    }),
    provision: AzureProvision.optional().meta({
      description: "Provision the account and deployment instead of naming an existing one.",
    }),
  })
  .strict()
  .meta({
    description:
      "AzureOpenAI: one deployment, either an existing one (deployment, endpoint and apiKeySecretRef) or provision. Set exactly when provider is AzureOpenAI.",
    // One rule per field, so the API server's message names the field at fault.
    "x-kubernetes-validations": (["deployment", "endpoint", "apiKeySecretRef"] as const).map((field) => ({
      rule: `has(self.provision) != has(self.${field})`,
      fieldPath: `.${field}`,
      messageExpression: `has(self.provision) ? 'must not be set together with provision' : 'is required unless provision is set'`,
    })),
  });

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
    vertexAI: z
      .object({
        credentialsSecretRef: SecretKeyRef.meta({
          description: "The Secret key holding the service-account JSON file's content.",
        }),
        projectId: z
          .string()
          .min(1)
          .max(255)
          .optional()
          .meta({ description: "The Google Cloud project. @default the project_id of the credentials" }),
        location: z
          .string()
          .min(1)
          .max(255)
          .optional()
          .meta({ description: "The Google Cloud location. @default us-central1" }),
      })
      .strict()
      .optional()
      .meta({
        description:
          "VertexAI: a service account's JSON key, for one connection of the whole organization. Set exactly when provider is VertexAI.",
      }),
    azure: AzureBlock.optional(),
    azureAIFoundry: z
      .object({
        deployment: deploymentName,
        endpoint: httpsUrl("The Azure AI Foundry endpoint (https)."),
        apiKeySecretRef: SecretKeyRef.meta({ description: "The Secret key holding the endpoint's API key." }),
      })
      .strict()
      .optional()
      .meta({
        description:
          "AzureAIFoundry: one deployed model and its key. Set exactly when provider is AzureAIFoundry.",
      }),
    custom: z
      .object({
        name: z
          .string()
          .min(1)
          .max(512)
          .meta({ description: "The model name the server answers to (shown to users in the app)." }),
        endpoint: z
          .string()
          .min(1)
          .max(512)
          .meta({
            description: "Base URL of the OpenAI-format API, including /v1, e.g. http://ollama:11434/v1.",
            "x-kubernetes-validations": [
              {
                rule: "isURL(self) && url(self).getScheme() in ['https', 'http'] && url(self).getHostname() != ''",
                message: "must be an http or https URL",
              },
            ],
          }),
        apiKeySecretRef: SecretKeyRef.optional().meta({
          description: "The Secret key holding an API key for the server, if it wants one.",
        }),
        authTokenSecretRef: SecretKeyRef.optional().meta({
          description: "The Secret key holding an auth token for the server, if it wants one.",
        }),
      })
      .strict()
      .optional()
      .meta({
        description:
          "Custom: one model on a server speaking the OpenAI API format (with JSON mode). Set exactly when provider is Custom.",
      }),
    models: z
      .array(z.string().min(1).max(256))
      .max(64)
      .optional()
      .meta({ description: "The models the users expect; ModelsAvailable reports the missing ones." }),
    deletionPolicy: z
      .enum(["Delete", "Orphan"])
      .default("Delete")
      .meta({ description: "Delete removes the app's record with the connection; Orphan leaves it." }),
    refreshInterval: Duration.default("1h").meta({ description: "How often the models are checked again." }),
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
    lastSyncTime: z.string().optional().meta({ format: "date-time" }),
    appUpdatedTime: z.string().optional().meta({
      description:
        "The app record's updated_at after the operator's last write: a later one means a change made in the app.",
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
