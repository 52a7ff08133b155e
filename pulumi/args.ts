// The arguments of an Azure OpenAI account, as zod schemas of plain values (the one source of the rules)
// and as the component's Pulumi inputs; validation reports every problem at once, naming each field.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ipRuleProblem } from "./network-rules.ts";

export const VERSION_UPGRADE_OPTIONS = [
  "OnceNewDefaultVersionAvailable",
  "OnceCurrentVersionExpired",
  "NoAutoUpgrade",
] as const;

const subnetId =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

const ipRule = z.string().superRefine((value, ctx) => {
  const problem = ipRuleProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** One deployment (one model) of the account, as plain values. */
export const DeploymentSpec = z
  .object({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        "letters, digits, '.', '_' and '-', starting with a letter or digit",
      ),
    model: z.string().min(1).max(128),
    version: z.string().min(1).max(64),
    sku: z
      .object({
        name: z.string().min(1).max(64).default("Standard"),
        capacity: z.number().int().min(1).max(100000).default(10),
      })
      .strict()
      .default({ name: "Standard", capacity: 10 }),
    versionUpgradeOption: z.enum(VERSION_UPGRADE_OPTIONS).optional(),
    /** Leave the deployment in Azure when it leaves the program (the operator's deletionPolicy Orphan). */
    retainOnDelete: z.boolean().optional(),
  })
  .strict();
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;
export type DeploymentSpecInput = z.input<typeof DeploymentSpec>;

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

// No deployment is an account alone: the operator's account outlives its connections (its last one's
// deployment is removed by an update with none).
const deployments = z.array(DeploymentSpec).superRefine((list, ctx) => {
  for (const name of duplicateDeploymentNames(list.map((d) => d.name))) {
    ctx.addIssue({ code: "custom", message: `duplicate deployment name "${name}"` });
  }
});

/** The whole account as plain values: what stack configuration and the operator's spec resolve to. */
export const AccountSpec = z
  .object({
    resourceGroupName: z
      .string()
      .min(1)
      .max(90)
      .regex(/^[-\w.()]*[-\w()]$/, "letters, digits, '-', '_', '.', '(' and ')', not ending in '.'"),
    createResourceGroup: z.boolean().default(false),
    location: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9 ]+$/, "an Azure region such as eastus"),
    accountName: z
      .string()
      .min(2)
      .max(64)
      .regex(
        /^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$/,
        "letters, digits and '-', not starting or ending with '-'",
      ),
    customSubDomainName: z
      .string()
      .min(2)
      .max(64)
      .regex(
        /^[a-z0-9][a-z0-9-]*[a-z0-9]$/,
        "lower-case letters, digits and '-', not starting or ending with '-'",
      )
      .optional(),
    sku: z.string().min(1).max(32).default("S0"),
    publicNetworkAccess: z.enum(["Enabled", "Disabled"]).default("Enabled"),
    allowedAddresses: z.array(ipRule).max(400).default([]),
    virtualNetworkSubnetIds: z
      .array(z.string().regex(subnetId, "an Azure subnet resource ID"))
      .max(100)
      .default([]),
    deployments,
  })
  .strict();
export type AccountSpec = z.infer<typeof AccountSpec>;
export type AccountSpecInput = z.input<typeof AccountSpec>;

/** Arguments of one deployment; `name` is plain because it names a child resource. */
export interface AzureOpenAIDeploymentArgs {
  /** The deployment name the app calls; unique within the account (case-insensitive). */
  name: string;
  /** The OpenAI model, e.g. gpt-4o. */
  model: pulumi.Input<string>;
  /** The model version, e.g. 2024-11-20. */
  version: pulumi.Input<string>;
  /** @default {name: "Standard", capacity: 10} */
  sku?: pulumi.Input<{ name?: pulumi.Input<string>; capacity?: pulumi.Input<number> }>;
  /** @default Azure's default (OnceNewDefaultVersionAvailable) */
  versionUpgradeOption?: pulumi.Input<(typeof VERSION_UPGRADE_OPTIONS)[number]>;
  /**
   * Removing the deployment from the program leaves it in Azure (Pulumi's retainOnDelete); it must be in
   * the state before the deployment is removed. @default false
   */
  retainOnDelete?: boolean;
}

/** Arguments of an {@link AzureOpenAIAccount}; plain values are validated when the component is built. */
export interface AzureOpenAIAccountArgs {
  /** The resource group holding the account. */
  resourceGroupName: pulumi.Input<string>;
  /** Create the resource group (in `location`) rather than use an existing one. @default false */
  createResourceGroup?: boolean;
  /** The Azure region, e.g. eastus. */
  location: pulumi.Input<string>;
  /** The Cognitive Services account name. */
  accountName: pulumi.Input<string>;
  /** The subdomain of https://<name>.openai.azure.com/. @default the account name, lower-cased */
  customSubDomainName?: pulumi.Input<string>;
  /** @default "S0" */
  sku?: pulumi.Input<string>;
  /** @default "Enabled" (the network rules below then decide who gets in) */
  publicNetworkAccess?: pulumi.Input<"Enabled" | "Disabled">;
  /** IPv4 addresses or CIDR ranges allowed besides the app's own three. @default [] */
  allowedAddresses?: pulumi.Input<pulumi.Input<string>[]>;
  /** Subnet resource IDs allowed through virtual-network rules. @default [] */
  virtualNetworkSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** One deployment per model; at least one. */
  deployments: AzureOpenAIDeploymentArgs[];
  /** Tags on the account (and the resource group when created). @default {} */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Invalid arguments: every problem found, each naming its field. */
export class AzureOpenAIAccountArgsError extends Error {
  constructor(
    readonly component: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid arguments for AzureOpenAIAccount "${component}": ${issues.join("; ")}`);
    this.name = "AzureOpenAIAccountArgsError";
  }
}

/** True when `value` holds no Output or promise anywhere, so it can be checked now. */
export function isPlain(value: unknown): boolean {
  if (pulumi.Output.isInstance(value)) return false;
  if (value === null || typeof value !== "object") return true;
  if (typeof (value as { then?: unknown }).then === "function") return false;
  return Object.values(value).every(isPlain);
}

/** The issues of a zod result as "field.path: message" lines, prefixed with `at`. */
export function describeIssues(error: z.ZodError, at: string): string[] {
  return error.issues.map((issue) => {
    const path = [at, ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))]
      .filter((p) => p !== "")
      .join(".")
      .replaceAll(".[", "[");
    return `${path}: ${issue.message}`;
  });
}

function checkField(schema: z.ZodType, value: unknown, field: string): string[] {
  if (value === undefined || !isPlain(value)) return [];
  const result = schema.safeParse(value);
  return result.success ? [] : describeIssues(result.error, field);
}

/**
 * Every problem in the plain parts of `args`; parts that are Outputs are checked when they resolve.
 * Required fields must be present even when they are Outputs.
 */
export function argsIssues(args: AzureOpenAIAccountArgs): string[] {
  const shape = AccountSpec.shape;
  const issues: string[] = [];
  for (const field of ["resourceGroupName", "location", "accountName"] as const) {
    if (args[field] === undefined || args[field] === null) issues.push(`${field}: required`);
  }
  for (const field of [
    "resourceGroupName",
    "location",
    "accountName",
    "customSubDomainName",
    "sku",
    "publicNetworkAccess",
    "allowedAddresses",
    "virtualNetworkSubnetIds",
  ] as const) {
    issues.push(...checkField(shape[field], args[field], field));
  }
  if (args.createResourceGroup !== undefined && typeof args.createResourceGroup !== "boolean") {
    issues.push("createResourceGroup: must be a boolean");
  }
  if (!Array.isArray(args.deployments)) {
    issues.push("deployments: must be a list (empty for an account without deployments)");
    return issues;
  }
  const deploymentShape = DeploymentSpec.shape;
  args.deployments.forEach((deployment, index) => {
    const at = `deployments[${index}]`;
    for (const [field, schema] of Object.entries(deploymentShape)) {
      const value = (deployment as unknown as Record<string, unknown>)[field];
      if (value === undefined && !schema.safeParse(undefined).success)
        issues.push(`${at}.${field}: required`);
      else issues.push(...checkField(schema, value, `${at}.${field}`));
    }
    for (const field of Object.keys(deployment)) {
      if (!(field in deploymentShape)) issues.push(`${at}.${field}: unknown field`);
    }
  });
  for (const name of duplicateDeploymentNames(
    args.deployments.map((d) => d.name).filter((n) => typeof n === "string"),
  )) {
    issues.push(`deployments: duplicate deployment name "${name}"`);
  }
  return issues;
}

/** Component arguments from a validated plain spec (stack configuration, the operator's spec). */
export function argsFromSpec(spec: AccountSpec): AzureOpenAIAccountArgs {
  return {
    resourceGroupName: spec.resourceGroupName,
    createResourceGroup: spec.createResourceGroup,
    location: spec.location,
    accountName: spec.accountName,
    customSubDomainName: spec.customSubDomainName,
    sku: spec.sku,
    publicNetworkAccess: spec.publicNetworkAccess,
    allowedAddresses: spec.allowedAddresses,
    virtualNetworkSubnetIds: spec.virtualNetworkSubnetIds,
    deployments: spec.deployments.map((d) => ({
      name: d.name,
      model: d.model,
      version: d.version,
      sku: d.sku,
      versionUpgradeOption: d.versionUpgradeOption,
      ...(d.retainOnDelete === undefined ? {} : { retainOnDelete: d.retainOnDelete }),
    })),
  };
}
