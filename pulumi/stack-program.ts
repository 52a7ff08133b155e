// The standalone program behind Pulumi.yaml: reads the stack's configuration (the keys Pulumi.yaml declares, one per
// field of the shared account schema, plus the deployments), validates it, and builds one AzureOpenAIAccount.
import * as pulumi from "@pulumi/pulumi";
import type { AccountSettings } from "./account-schema.ts";
import { type AccountSpec, AccountSpec as AccountSpecSchema, argsFromSpec, describeIssues } from "./args.ts";
import { AzureOpenAIAccount } from "./openai-account.ts";

/** The configuration namespace of the program (the project name in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "modelkeys";

/** How each key is read; Pulumi.yaml declares exactly these keys with the same types. */
const KEY_TYPES = {
  accountName: "string",
  resourceGroupName: "string",
  createResourceGroup: "boolean",
  location: "string",
  sku: "string",
  customSubDomainName: "string",
  publicNetworkAccess: "string",
  networkRules: "object",
  deployments: "array",
} as const satisfies Record<keyof typeof AccountSettings.shape | "deployments", string>;

/** The `modelkeys:*` keys the program reads, each declared in Pulumi.yaml's `config:` with its type. */
export const STACK_CONFIG_KEYS = KEY_TYPES;

/** Thrown when the stack configuration is invalid; names each `modelkeys:<key>` at fault. */
export class StackConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid stack configuration: ${issues.join("; ")}`);
    this.name = "StackConfigError";
  }
}

/**
 * The account spec from stack configuration: the `modelkeys:*` keys Pulumi.yaml declares (an empty string
 * means "not set", since Pulumi.yaml's defaults cannot be absent), with the location falling back to
 * `azure-native:location`. A `modelkeys:*` key the program does not read is refused, so a typo or a key of an
 * older version (allowedAddresses is now networkRules.ipRules) is not silently ignored.
 */
export function readStackConfig(): AccountSpec {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const [key, type] of Object.entries(KEY_TYPES)) {
    if (type === "boolean") raw[key] = config.getBoolean(key);
    else if (type === "string") raw[key] = config.get(key) || undefined;
    else raw[key] = config.getObject(key);
  }
  raw.location ??= new pulumi.Config("azure-native").get("location") || undefined;
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const unknown = Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(`${CONFIG_NAMESPACE}:`))
    .map((key) => key.slice(CONFIG_NAMESPACE.length + 1))
    .filter((key) => !(key in KEY_TYPES))
    .map((key) => `modelkeys:${key}: not a key of this program (Pulumi.yaml lists them)`);
  const result = AccountSpecSchema.safeParse(present);
  if (!result.success || unknown.length > 0) {
    const issues = (result.success ? [] : describeIssues(result.error, "")).map((issue) =>
      issue.startsWith("location:")
        ? `modelkeys:location (or azure-native:location)${issue.slice(8)}`
        : `modelkeys:${issue}`,
    );
    throw new StackConfigError([...issues, ...unknown]);
  }
  return result.data;
}

/** The program: one account from configuration; the returned object is the stack's outputs. */
export function stackProgram(): Record<string, pulumi.Output<unknown>> {
  const spec = readStackConfig();
  const account = new AzureOpenAIAccount(spec.accountName, argsFromSpec(spec));
  return {
    endpoint: account.endpoint,
    accountName: account.accountName,
    deploymentNames: account.deploymentNames,
    allowedAddresses: account.allowedAddresses,
    primaryKey: account.primaryKey,
    secondaryKey: account.secondaryKey,
  };
}
