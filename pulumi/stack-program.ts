// The standalone program behind Pulumi.yaml: reads the stack's configuration, validates it, and builds
// one AzureOpenAIAccount from it; its return value becomes the stack's outputs.
import * as pulumi from "@pulumi/pulumi";
import { AccountSpec, argsFromSpec, describeIssues } from "./args.ts";
import { AzureOpenAIAccount } from "./openai-account.ts";

/** The configuration namespace of the program (the project name in Pulumi.yaml). */
export const CONFIG_NAMESPACE = "modelkeys";

const STRING_KEYS = [
  "resourceGroupName",
  "accountName",
  "customSubDomainName",
  "sku",
  "publicNetworkAccess",
] as const;
const OBJECT_KEYS = ["allowedAddresses", "virtualNetworkSubnetIds", "deployments"] as const;

/** Thrown when the stack configuration is invalid; names each `modelkeys:<key>` at fault. */
export class StackConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid stack configuration: ${issues.join("; ")}`);
    this.name = "StackConfigError";
  }
}

/**
 * The account spec from stack configuration: `modelkeys:*` keys, with the location falling back to
 * `azure-native:location`.
 */
export function readStackConfig(): AccountSpec {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const key of STRING_KEYS) raw[key] = config.get(key);
  for (const key of OBJECT_KEYS) raw[key] = config.getObject(key);
  raw.createResourceGroup = config.getBoolean("createResourceGroup");
  raw.location = config.get("location") ?? new pulumi.Config("azure-native").get("location");
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const result = AccountSpec.safeParse(present);
  if (!result.success) {
    const issues = describeIssues(result.error, "").map((issue) =>
      issue.startsWith("location:")
        ? `modelkeys:location (or azure-native:location)${issue.slice(8)}`
        : `modelkeys:${issue}`,
    );
    throw new StackConfigError(issues);
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
