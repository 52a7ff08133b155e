// The AzureOpenAIAccount kind: one Azure OpenAI account and its deployments, provisioned with Pulumi. The
// account's fields are the shared schema (pulumi/account-schema.ts); this module adds only the Kubernetes side:
// credentials, deletion policy, state backend, status, and the API server's CEL rules for the shared fields.
import { z } from "zod";
import {
  AccountSettings,
  IpRule,
  NetworkRules,
  SUBNET_ID_PATTERN,
  SubnetId,
} from "../pulumi/account-schema.ts";
import { PRIVATE_RANGES } from "../pulumi/network-rules.ts";
import { Conditions, LocalObjectRef, SecretKeyRef } from "./common.ts";
import { withKubernetes } from "./kubernetes-extensions.ts";

/** The kind's name and plural, as the API server knows them. */
export const AZURE_OPENAI_ACCOUNT_KIND = "AzureOpenAIAccount";
export const AZURE_OPENAI_ACCOUNT_PLURAL = "azureopenaiaccounts";

// --- The API server's rules for the shared fields: the same rules as the zod schema's, in CEL. ---

withKubernetes(IpRule, {
  "x-kubernetes-validations": [
    {
      rule: "isIP(self) ? ip(self).family() == 4 : (isCIDR(self) && cidr(self).ip().family() == 4)",
      message: "must be an IPv4 address or CIDR range, e.g. 203.0.113.7 or 203.0.113.0/24",
    },
    {
      rule: "!isCIDR(self) || cidr(self).ip() == cidr(self).masked().ip()",
      message:
        "has host bits set: write the range's network address, e.g. 10.1.2.0/24 rather than 10.1.2.3/24",
    },
    {
      rule: "!isCIDR(self) || cidr(self).prefixLength() != 31",
      message: "Azure takes no /31 range: list its two addresses instead",
    },
  ],
});

withKubernetes(SubnetId, {
  "x-kubernetes-validations": [
    {
      // RE2's (?i): Azure resource IDs are case-insensitive.
      rule: `self.matches('(?i)${SUBNET_ID_PATTERN}')`,
      message:
        "must be a subnet resource ID: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
    },
  ],
});

// A rule overlaps a reserved range when either block holds the other's network address; an address is a /32.
const asBlock = "(isIP(r) ? cidr(r + '/32') : cidr(r))";
const overlapsPrivate = `(isIP(r) || isCIDR(r)) && [${PRIVATE_RANGES.map((range) => `'${range}'`).join(", ")}].exists(p, cidr(p).containsIP(${asBlock}.ip()) || ${asBlock}.containsIP(cidr(p).ip()))`;

withKubernetes(NetworkRules, {
  "x-kubernetes-validations": [
    {
      rule: `(has(self.allowPrivateRanges) && self.allowPrivateRanges) || !has(self.ipRules) || !self.ipRules.exists(r, ${overlapsPrivate})`,
      fieldPath: ".ipRules",
      message: `must not overlap private or reserved ranges (${PRIVATE_RANGES.join(", ")}; 0.0.0.0/0 overlaps them all) unless networkRules.allowPrivateRanges is true`,
    },
  ],
});

// --- The Kubernetes side of the account. ---

/** How the operator authenticates to Azure for this account: exactly one of the two. */
export const AccountCredentials = z
  .object({
    servicePrincipal: z
      .object({
        secretRef: LocalObjectRef.meta({
          description:
            "A Secret in the same namespace with the keys clientId, clientSecret, tenantId and subscriptionId (subscriptionId may be left to spec.subscriptionId).",
        }),
      })
      .strict()
      .optional()
      .meta({ description: "A service principal's client secret." }),
    workloadIdentity: z.object({}).strict().optional().meta({
      description:
        "The operator's Azure workload identity (AZURE_CLIENT_ID, AZURE_TENANT_ID and the federated token file AZURE_FEDERATED_TOKEN_FILE).",
    }),
  })
  .strict()
  .refine((credentials) => !!credentials.servicePrincipal !== !!credentials.workloadIdentity, {
    message: "set exactly one of servicePrincipal and workloadIdentity",
  })
  .meta({
    description:
      "How the operator authenticates to Azure for this account: servicePrincipal or workloadIdentity.",
    "x-kubernetes-validations": [
      {
        rule: "has(self.servicePrincipal) != has(self.workloadIdentity)",
        messageExpression:
          "has(self.servicePrincipal) ? 'set exactly one of servicePrincipal and workloadIdentity, not both' : 'set exactly one of servicePrincipal and workloadIdentity'",
      },
    ],
  });
export type AccountCredentials = z.infer<typeof AccountCredentials>;

/** The URL schemes of the Pulumi backends an account may name instead of Kubernetes Secrets. */
export const STATE_BACKEND_SCHEMES = ["azblob", "s3", "gs", "file"] as const;

/**
 * Where the account's Pulumi stack keeps its checkpoint. The default (no `url`) is a Secret per stack in the
 * account's namespace, locked by a Lease; `url` names a Pulumi backend instead.
 */
export const StateBackend = z
  .object({
    url: z
      .string()
      .min(1)
      .max(1024)
      .regex(new RegExp(`^(${STATE_BACKEND_SCHEMES.join("|")})://.+$`))
      .optional()
      .meta({
        description:
          "A Pulumi backend URL (azblob://, s3://, gs:// or file://) instead of Kubernetes Secrets. @default Kubernetes Secrets in the account's namespace (the operator's PULUMI_BACKEND_URL, when set, overrides that default)",
      }),
    passphraseSecretRef: SecretKeyRef.optional().meta({
      description:
        "The Secret key (same namespace) holding the passphrase that encrypts the stack's secrets. @default the operator's passphrase Secret (--pulumi-passphrase-secret; the install's modelkeys-pulumi, key passphrase)",
    }),
  })
  .strict()
  .meta({
    description: "Where the account's Pulumi stack state is kept, and the passphrase encrypting its secrets.",
  });
export type StateBackend = z.infer<typeof StateBackend>;

/** The spec: the shared account settings plus what only the operator needs. */
export const AzureOpenAIAccountSpec = AccountSettings.extend({
  subscriptionId: z
    .string()
    .regex(
      /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
      "a subscription ID (a GUID)",
    )
    .optional()
    .meta({
      description:
        "The Azure subscription holding the account. Immutable. @default the credentials' subscription",
    }),
  credentials: AccountCredentials.default({ workloadIdentity: {} }),
  deletionPolicy: z.enum(["Delete", "Orphan"]).default("Delete").meta({
    description:
      "Delete: deleting this object deletes the Azure account with its deployments and its stack. Orphan: leaves them in Azure.",
  }),
  stateBackend: StateBackend.default({}),
}).meta({
  description:
    "The Azure OpenAI account: its Azure settings and network rules, how to reach Azure, and where its Pulumi state lives. The deployments come from the ProviderConnections that name this account.",
  // Azure cannot rename or move an account: a change here would mean another account, so it is refused.
  "x-kubernetes-validations": [
    ...(["accountName", "resourceGroupName", "location"] as const).map((field) => ({
      rule: `self.${field} == oldSelf.${field}`,
      fieldPath: `.${field}`,
      message: `${field} is immutable: another value means another Azure account (create another AzureOpenAIAccount)`,
    })),
    {
      rule: "has(self.subscriptionId) == has(oldSelf.subscriptionId) && (!has(self.subscriptionId) || self.subscriptionId == oldSelf.subscriptionId)",
      fieldPath: ".subscriptionId",
      message: "subscriptionId is immutable",
    },
    {
      rule: "!has(oldSelf.customSubDomainName) || (has(self.customSubDomainName) && self.customSubDomainName == oldSelf.customSubDomainName)",
      fieldPath: ".customSubDomainName",
      message: "customSubDomainName cannot change once set (Azure keeps an account's subdomain)",
    },
  ],
});
export type AzureOpenAIAccountSpec = z.infer<typeof AzureOpenAIAccountSpec>;

/** One deployment as the account's last update left it. */
export const AccountDeploymentStatus = z.object({
  name: z.string().meta({ description: "The deployment's name." }),
  model: z.string().optional(),
  version: z.string().optional(),
  sku: z.object({ name: z.string().optional(), capacity: z.number().int().optional() }).optional(),
  state: z.string().optional().meta({
    description:
      "Succeeded (made by the last update), Pending (wanted, not made yet), Failed (its update failed) or Deleting (leaving, while the update that removes it runs).",
  }),
  connection: z.string().optional().meta({
    description: "The ProviderConnection (same namespace) whose deployment this is.",
  }),
});
export type AccountDeploymentStatus = z.infer<typeof AccountDeploymentStatus>;

/** The account's Pulumi stack and its last update. */
export const AccountStackStatus = z.object({
  name: z.string().optional().meta({ description: "The Pulumi stack's name." }),
  lastUpdate: z
    .object({
      result: z.string().optional().meta({ description: "succeeded or failed." }),
      time: z.string().optional().meta({ format: "date-time" }),
      changes: z
        .record(z.string(), z.number().int())
        .optional()
        .meta({ description: "Resources by operation, e.g. {create: 2, same: 1}." }),
    })
    .optional(),
});

/** What the account reconciler reports: the account as provisioned, its deployments, keys and stack; kstatus conditions. */
export const AzureOpenAIAccountStatus = z
  .object({
    observedGeneration: z.number().int().optional(),
    endpoint: z
      .string()
      .optional()
      .meta({ description: "The account's endpoint, e.g. https://acme.openai.azure.com/." }),
    ipRules: z.array(z.string()).optional().meta({
      description:
        "The IP rules the account carries: the app's addresses and spec.networkRules.ipRules, canonical and sorted.",
    }),
    networkSummary: z.string().optional().meta({
      description:
        "The default action and the number of IP rules (and subnets), e.g. Deny+5 or Deny+5,vnet2.",
    }),
    deploymentCount: z
      .number()
      .int()
      .optional()
      .meta({ description: "How many deployments the account holds." }),
    deployments: z
      .array(AccountDeploymentStatus)
      .optional()
      .meta({
        description: "The deployments, gathered from the ProviderConnections that name this account.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      }),
    activeKey: z.enum(["key1", "key2"]).optional().meta({
      description:
        "The key the connections' Secrets and apps hold; rotation regenerates the other one first.",
    }),
    lastRotated: z
      .string()
      .optional()
      .meta({ format: "date-time", description: "When the keys were last rotated." }),
    rotateKeyRequestedAt: z.string().optional().meta({
      description: "The last modelkeys.dev/rotate-key-requested-at value whose key rotation finished.",
    }),
    keySecretName: z.string().optional().meta({
      description:
        "The Secret (same namespace, owned by this account) holding the active key and the endpoint.",
    }),
    stack: AccountStackStatus.optional(),
    conditions: Conditions.optional(),
  })
  .meta({ description: "What the operator provisioned and observed." });
export type AzureOpenAIAccountStatus = z.infer<typeof AzureOpenAIAccountStatus>;
