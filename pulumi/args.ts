// The component's arguments: the shared account schema (account-schema.ts) with its deployments, as plain
// values and as Pulumi inputs; validation reports every problem at once, naming each field.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  AccountSettings,
  type AccountSettingsInput,
  Deployment,
  type DeploymentInput,
  duplicateDeploymentNames,
} from "./account-schema.ts";

export { duplicateDeploymentNames, VERSION_UPGRADE_OPTIONS } from "./account-schema.ts";

/** One deployment (one model) of the account, as the component takes it: the shared schema's, plus
 * `retainOnDelete` (leave the deployment in Azure when it leaves the program; the operator's Orphan). */
export const DeploymentSpec = Deployment.extend({ retainOnDelete: z.boolean().optional() });
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;
export type DeploymentSpecInput = z.input<typeof DeploymentSpec>;

// None is fine: an account lives on its own (keys and endpoint ready before the first deployment, and kept
// after the last one goes).
const deployments = z
  .array(DeploymentSpec)
  .superRefine((list, ctx) => {
    for (const name of duplicateDeploymentNames(list.map((d) => d.name))) {
      ctx.addIssue({ code: "custom", message: `duplicate deployment name "${name}"` });
    }
  })
  .default([]);

/** The whole account as plain values: the shared {@link AccountSettings} and its deployments (stack
 * configuration and the operator's spec resolve to this). */
export const AccountSpec = AccountSettings.extend({ deployments });
export type AccountSpec = z.infer<typeof AccountSpec>;
export type AccountSpecInput = z.input<typeof AccountSpec>;

/** `T` with every value, nested ones included, allowed to be a Pulumi Input (an Output or a promise). */
export type DeepInput<T> = pulumi.Input<
  T extends readonly (infer E)[] ? DeepInput<E>[] : T extends object ? { [K in keyof T]: DeepInput<T[K]> } : T
>;

/**
 * Arguments of one deployment: the fields of the shared `Deployment` schema (pulumi/account-schema.ts, whose
 * descriptions document them) as Inputs; `name` and `retainOnDelete` are plain, since they shape the graph
 * (the child's name, Pulumi's retainOnDelete, which must be in the state before the deployment is removed).
 */
export type AzureOpenAIDeploymentArgs = {
  [K in keyof DeploymentInput as K extends "name" ? never : K]: DeepInput<DeploymentInput[K]>;
} & {
  /** The deployment name the app calls; unique within the account (case-insensitive). */
  name: string;
  /** @default false */
  retainOnDelete?: boolean;
};

/**
 * Arguments of an {@link AzureOpenAIAccount}: the fields of the shared `AccountSettings` schema
 * (pulumi/account-schema.ts, whose descriptions document them) as Inputs, validated by the same rules when
 * the component is built; `createResourceGroup` is plain because it decides whether a child exists.
 */
export type AzureOpenAIAccountArgs = {
  [K in keyof AccountSettingsInput as K extends "createResourceGroup" ? never : K]: DeepInput<
    AccountSettingsInput[K]
  >;
} & {
  /** Create the resource group (in `location`) rather than use an existing one. @default false */
  createResourceGroup?: boolean;
  /** One deployment per model, created one after another. @default [] (the account alone) */
  deployments?: AzureOpenAIDeploymentArgs[];
  /** Tags on the account (and the resource group when created). @default {} */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
};

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
  const shape = AccountSettings.shape;
  const issues: string[] = [];
  for (const field of ["resourceGroupName", "location", "accountName"] as const) {
    if (args[field] === undefined || args[field] === null) issues.push(`${field}: required`);
  }
  for (const field of Object.keys(shape) as (keyof typeof shape)[]) {
    if (field === "createResourceGroup") continue;
    issues.push(...checkField(shape[field], args[field], field));
  }
  if (args.createResourceGroup !== undefined && typeof args.createResourceGroup !== "boolean") {
    issues.push("createResourceGroup: must be a boolean");
  }
  for (const field of Object.keys(args)) {
    if (!(field in shape) && !["createResourceGroup", "deployments", "tags"].includes(field)) {
      issues.push(`${field}: unknown field`);
    }
  }
  if (args.deployments === undefined) return issues;
  if (!Array.isArray(args.deployments)) {
    issues.push("deployments: must be a list");
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
  const { deployments, customSubDomainName, ...settings } = spec;
  return {
    ...settings,
    ...(customSubDomainName === undefined ? {} : { customSubDomainName }),
    deployments: deployments.map((d) => ({
      name: d.name,
      model: d.model,
      version: d.version,
      sku: d.sku,
      ...(d.versionUpgradeOption === undefined ? {} : { versionUpgradeOption: d.versionUpgradeOption }),
      ...(d.retainOnDelete === undefined ? {} : { retainOnDelete: d.retainOnDelete }),
    })),
  };
}
