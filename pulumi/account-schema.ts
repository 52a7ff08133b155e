// The one schema of an Azure OpenAI account and its deployments, as zod schemas of plain values: the Pulumi
// component's args (args.ts), the AzureOpenAIAccount CRD (crds/) and the operator's AccountSpec all derive from it.
// Plain zod on purpose: no Kubernetes and no @pulumi import, so each side adds only its own concerns.
import { z } from "zod";
import { APP_ADDRESSES } from "../labelstudio/app-addresses.ts";
import { ipRuleProblem, PRIVATE_RANGES, privateRangeOf } from "./network-rules.ts";

/** How many IP rules Azure takes on one account. */
export const MAX_IP_RULES = 100;
/** How many IP rules may be listed besides the app's own addresses, so the total always fits. */
export const MAX_EXTRA_IP_RULES = MAX_IP_RULES - APP_ADDRESSES.length;
/** How many virtual-network rules Azure takes on one account. */
export const MAX_SUBNET_RULES = 100;

/**
 * A subnet resource ID, matched case-insensitively (Azure's IDs are; the CLI sometimes prints
 * `resourcegroups`). Written without backslashes so the same text serves a JavaScript RegExp and a CEL
 * string literal (RE2).
 */
export const SUBNET_ID_PATTERN =
  "^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft[.]Network/virtualNetworks/[^/]+/subnets/[^/]+$";
const subnetIdExpression = new RegExp(SUBNET_ID_PATTERN, "i");

export const VERSION_UPGRADE_OPTIONS = [
  "OnceNewDefaultVersionAvailable",
  "OnceCurrentVersionExpired",
  "NoAutoUpgrade",
] as const;

/** One IP rule: an IPv4 address or CIDR range as Azure accepts it (see ipRuleProblem). */
export const IpRule = z
  .string()
  .max(18)
  .superRefine((value, ctx) => {
    const problem = ipRuleProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ description: "An IPv4 address (203.0.113.7) or CIDR range (203.0.113.0/24); not a /31." });

/** A virtual-network subnet's resource ID. */
export const SubnetId = z
  .string()
  // Azure's parts: a GUID, a resource group (90), a network (64) and a subnet (80) name, and the fixed words.
  .max(400)
  .refine((value) => subnetIdExpression.test(value), {
    message:
      "must be a subnet resource ID: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
  })
  .meta({
    description:
      "A subnet resource ID, /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>; the subnet needs the Microsoft.CognitiveServices service endpoint.",
  });

/** Who may reach the account over its public endpoint. */
export const NetworkRules = z
  .object({
    defaultAction: z.enum(["Deny", "Allow"]).default("Deny").meta({
      description:
        "What happens to an address no rule names: Deny (the rules decide) or Allow (every address gets in; the key still guards the account).",
    }),
    ipRules: z
      .array(IpRule)
      .max(MAX_EXTRA_IP_RULES)
      .default([])
      .meta({
        description: `IPv4 addresses and CIDR ranges let in besides the app's own (${APP_ADDRESSES.join(", ")}), which are always added; at most ${MAX_EXTRA_IP_RULES}, so that with them the account stays within Azure's ${MAX_IP_RULES} rules.`,
      }),
    virtualNetworkSubnetIds: z.array(SubnetId).max(MAX_SUBNET_RULES).default([]).meta({
      description: "Subnets let in through virtual-network rules.",
    }),
    allowPrivateRanges: z
      .boolean()
      .default(false)
      .meta({
        description: `Admit IP rules that overlap private or reserved ranges (${PRIVATE_RANGES.join(", ")}); 0.0.0.0/0 overlaps them all. Refused unless true.`,
      }),
  })
  .strict()
  .superRefine((rules, ctx) => {
    if (rules.allowPrivateRanges) return;
    rules.ipRules.forEach((rule, index) => {
      if (ipRuleProblem(rule)) return; // already reported by the rule itself
      const range = privateRangeOf(rule);
      if (!range) return;
      const what = rule.endsWith("/0")
        ? `"${rule}" admits every address, private and reserved ranges included`
        : `"${rule}" overlaps the private or reserved range ${range}`;
      ctx.addIssue({
        code: "custom",
        path: ["ipRules", index],
        message: `${what}; set networkRules.allowPrivateRanges to admit it`,
      });
    });
  })
  .meta({ description: "Who may reach the account's public endpoint." });
export type NetworkRules = z.infer<typeof NetworkRules>;
export type NetworkRulesInput = z.input<typeof NetworkRules>;

/** The account itself (without its deployments): what Azure holds for one Cognitive Services account. */
export const AccountSettings = z
  .object({
    accountName: z
      .string()
      .min(2)
      .max(64)
      .regex(
        /^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$/,
        "letters, digits and '-', not starting or ending with '-'",
      )
      .meta({ description: "The Cognitive Services account's name in Azure." }),
    resourceGroupName: z
      .string()
      .min(1)
      .max(90)
      .regex(/^[-\w.()]*[-\w()]$/, "letters, digits, '-', '_', '.', '(' and ')', not ending in '.'")
      .meta({ description: "The resource group holding the account." }),
    createResourceGroup: z.boolean().default(false).meta({
      description: "Create the resource group (in location) rather than use an existing one.",
    }),
    location: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9 ]+$/, "an Azure region such as eastus")
      .meta({ description: "The Azure region, e.g. eastus." }),
    sku: z.string().min(1).max(32).default("S0").meta({ description: "The account's SKU." }),
    customSubDomainName: z
      .string()
      .min(2)
      .max(64)
      .regex(
        /^[a-z0-9][a-z0-9-]*[a-z0-9]$/,
        "lower-case letters, digits and '-', not starting or ending with '-'",
      )
      .optional()
      .meta({
        description:
          "The subdomain of https://<name>.openai.azure.com/, unique across Azure. @default the account name, lower-cased",
      }),
    publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled").meta({
      description:
        "Enabled: the network rules decide who gets in. Disabled: private endpoints only (the app's addresses are shut out too).",
    }),
    networkRules: NetworkRules.default({
      defaultAction: "Deny",
      ipRules: [],
      virtualNetworkSubnetIds: [],
      allowPrivateRanges: false,
    }),
  })
  .strict();
export type AccountSettings = z.infer<typeof AccountSettings>;
export type AccountSettingsInput = z.input<typeof AccountSettings>;

/** A deployment's capacity: its SKU name and how many units (thousands of tokens per minute). */
export const DeploymentSku = z
  .object({
    name: z.string().min(1).max(64).default("Standard").meta({
      description: "Standard, GlobalStandard, DataZoneStandard, ProvisionedManaged …",
    }),
    capacity: z.number().int().min(1).max(100000).default(10).meta({
      description: "Capacity units (for Standard SKUs, thousands of tokens per minute).",
    }),
  })
  .strict();

/** One deployment (one model) of the account. */
export const Deployment = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        "letters, digits, '.', '_' and '-', starting with a letter or digit",
      )
      .meta({
        description:
          "The deployment's name, which the app calls (not the model's name); unique in the account, case-insensitively.",
      }),
    model: z.string().min(1).max(128).meta({ description: "The OpenAI model, e.g. gpt-4o." }),
    version: z.string().min(1).max(64).meta({ description: "The model version, e.g. 2024-11-20." }),
    sku: DeploymentSku.default({ name: "Standard", capacity: 10 }),
    versionUpgradeOption: z.enum(VERSION_UPGRADE_OPTIONS).optional().meta({
      description:
        "When Azure moves the deployment to a newer model version. @default Azure's (OnceNewDefaultVersionAvailable)",
    }),
  })
  .strict();
export type Deployment = z.infer<typeof Deployment>;
export type DeploymentInput = z.input<typeof Deployment>;

/** A deployment as a connection asks for it: the same fields, the name optional (the connection's name). */
export const ConnectionDeployment = Deployment.partial({ name: true });
export type ConnectionDeployment = z.infer<typeof ConnectionDeployment>;

/** Deployment names are case-insensitive in Azure: two that differ only in case collide. */
export function duplicateDeploymentNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const name of names) {
    const key = name.toLowerCase();
    if (seen.has(key)) duplicates.add(name);
    seen.add(key);
  }
  return [...duplicates];
}

/**
 * The Network printer column's text: the default action and how many IP rules the account carries
 * (`Deny+5`), and its subnets when there are any (`Deny+5,vnet2`).
 */
export function networkSummary(
  defaultAction: NetworkRules["defaultAction"],
  effectiveIpRules: number,
  subnets: number,
): string {
  return `${defaultAction}+${effectiveIpRules}${subnets > 0 ? `,vnet${subnets}` : ""}`;
}
