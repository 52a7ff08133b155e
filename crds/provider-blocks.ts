// The spec block of each provider: the Secret references and the non-secret fields one provider's connection
// needs (Azure OpenAI's with its provisioning variant). providerconnection.ts puts them together.
import { z } from "zod";
import { APP_ADDRESSES } from "../labelstudio/app-addresses.ts";
import { ConnectionDeployment } from "../pulumi/account-schema.ts";
import { LocalObjectRef, SecretKeyRef } from "./common.ts";

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

/** OpenAI, Gemini, Anthropic: an API key. */
export const ApiKeyBlock = (provider: string) =>
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
    allowedAddresses: z
      .array(ipOrCidr)
      .max(100)
      .default([])
      .meta({
        description: `Addresses allowed besides the app's own (${APP_ADDRESSES.join(", ")}).`,
      }),
    virtualNetworkSubnetIds: z.array(z.string().min(1).max(1024)).max(100).default([]),
  })
  .strict();

/**
 * The provisioned connection's block (issue 12): the AzureOpenAIAccount it names and its one deployment (the
 * shared schema's; the name defaults to the connection's). Not yet `AzureBlock.provision`: the account
 * reconciler swaps it in for {@link AzureProvision} when the connection's reconcile reads the account.
 */
export const AzureProvisionRef = z
  .object({
    accountRef: LocalObjectRef.meta({
      description: "The AzureOpenAIAccount (same namespace) that holds this connection's deployment.",
    }),
    deployment: ConnectionDeployment.meta({
      description: "This connection's deployment in the account. @default name: the connection's name",
    }),
  })
  .strict()
  .meta({
    description: "Provision a deployment in an AzureOpenAIAccount instead of naming an existing one.",
  });
export type AzureProvisionRef = z.infer<typeof AzureProvisionRef>;

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

export const VertexAIBlock = z
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
  .meta({
    description:
      "VertexAI: a service account's JSON key, for one connection of the whole organization. Set exactly when provider is VertexAI.",
  });

export const AzureAIFoundryBlock = z
  .object({
    deployment: deploymentName,
    endpoint: httpsUrl("The Azure AI Foundry endpoint (https)."),
    apiKeySecretRef: SecretKeyRef.meta({ description: "The Secret key holding the endpoint's API key." }),
  })
  .strict()
  .meta({
    description:
      "AzureAIFoundry: one deployed model and its key. Set exactly when provider is AzureAIFoundry.",
  });

export const CustomBlock = z
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
  .meta({
    description:
      "Custom: one model on a server speaking the OpenAI API format (with JSON mode). Set exactly when provider is Custom.",
  });
