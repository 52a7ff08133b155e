// The AzureOpenAIAccount component: one Azure OpenAI (Cognitive Services) account that denies by default and
// lets in the app's addresses, with one deployment per model and its keys as secret outputs.
import { cognitiveservices, resources } from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import {
  AccountSpec,
  type AzureOpenAIAccountArgs,
  AzureOpenAIAccountArgsError,
  argsIssues,
  describeIssues,
} from "./args.ts";
import { allowedIpRules } from "./network-rules.ts";

/** The component's type token. */
export const AZURE_OPENAI_ACCOUNT_TYPE = "modelkeys:azure:OpenAIAccount";

/**
 * One Azure OpenAI account (kind OpenAI) with its deployments.
 *
 * Guarantees: `networkAcls.defaultAction` is Deny and the IP rules always hold the app's three addresses
 * (plus `allowedAddresses`, canonical, deduplicated, sorted); local (key) auth stays enabled; deployments
 * are created one after another, since Azure refuses concurrent changes under one account.
 * Caveats: `publicNetworkAccess: "Disabled"` shuts out the app's addresses too (private endpoints only).
 */
export class AzureOpenAIAccount extends pulumi.ComponentResource {
  /** The account's endpoint, e.g. https://acme-openai.openai.azure.com/. */
  readonly endpoint: pulumi.Output<string>;
  /** The Cognitive Services account name. */
  readonly accountName: pulumi.Output<string>;
  /** The deployment names, in the order given; resolves once every deployment exists. */
  readonly deploymentNames: pulumi.Output<string[]>;
  /** key1 of the account (secret). */
  readonly primaryKey: pulumi.Output<string>;
  /** key2 of the account (secret), the one rotation switches to while key1 is regenerated. */
  readonly secondaryKey: pulumi.Output<string>;
  /** The IP rules the account carries. */
  readonly allowedAddresses: pulumi.Output<string[]>;

  constructor(name: string, args: AzureOpenAIAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before registering, so invalid arguments leave nothing behind in the stack.
    const issues = argsIssues(args);
    if (issues.length > 0) throw new AzureOpenAIAccountArgsError(name, issues);
    super(AZURE_OPENAI_ACCOUNT_TYPE, name, {}, opts);

    const location = pulumi.output(args.location);
    const resourceGroupName = args.createResourceGroup
      ? new resources.ResourceGroup(
          `${name}-rg`,
          { resourceGroupName: args.resourceGroupName, location, tags: args.tags },
          { parent: this },
        ).name
      : pulumi.output(args.resourceGroupName);

    const validOrThrow = <T>(field: keyof typeof AccountSpec.shape, value: T): T => {
      const result = AccountSpec.shape[field].safeParse(value);
      if (!result.success) throw new AzureOpenAIAccountArgsError(name, describeIssues(result.error, field));
      return value;
    };
    this.allowedAddresses = pulumi
      .output(args.allowedAddresses ?? [])
      .apply((extra) => allowedIpRules(validOrThrow("allowedAddresses", extra)));
    const subnetIds = pulumi
      .output(args.virtualNetworkSubnetIds ?? [])
      .apply((ids) => validOrThrow("virtualNetworkSubnetIds", ids));
    const customSubDomainName =
      args.customSubDomainName ?? pulumi.output(args.accountName).apply((account) => account.toLowerCase());
    const publicNetworkAccess = args.publicNetworkAccess ?? "Enabled";
    pulumi.output(publicNetworkAccess).apply((access) => {
      if (access === "Disabled") {
        pulumi.log.warn(
          "publicNetworkAccess is Disabled: the app's addresses cannot reach the account",
          this,
        );
      }
    });

    const account = new cognitiveservices.Account(
      `${name}-account`,
      {
        accountName: args.accountName,
        resourceGroupName,
        location,
        kind: "OpenAI",
        sku: { name: args.sku ?? "S0" },
        properties: {
          customSubDomainName,
          publicNetworkAccess,
          disableLocalAuth: false,
          networkAcls: {
            defaultAction: "Deny",
            ipRules: this.allowedAddresses.apply((rules) => rules.map((value) => ({ value }))),
            virtualNetworkRules: subnetIds.apply((ids) => ids.map((id) => ({ id }))),
          },
        },
        tags: args.tags,
      },
      { parent: this },
    );

    const deployments: cognitiveservices.Deployment[] = [];
    for (const deployment of args.deployments) {
      const previous = deployments.at(-1);
      const sku = pulumi.output(deployment.sku ?? {});
      deployments.push(
        new cognitiveservices.Deployment(
          `${name}-${deployment.name}`,
          {
            accountName: account.name,
            resourceGroupName,
            deploymentName: deployment.name,
            properties: {
              model: { format: "OpenAI", name: deployment.model, version: deployment.version },
              versionUpgradeOption: deployment.versionUpgradeOption,
            },
            sku: {
              name: sku.apply((s) => s.name ?? "Standard"),
              capacity: sku.apply((s) => s.capacity ?? 10),
            },
          },
          {
            parent: this,
            dependsOn: previous ? [previous] : [],
            ...(deployment.retainOnDelete ? { retainOnDelete: true } : {}),
          },
        ),
      );
    }

    this.accountName = account.name;
    this.endpoint = account.properties.apply((properties) => properties.endpoint);
    this.deploymentNames = pulumi.all(deployments.map((deployment) => deployment.name));
    const keys = cognitiveservices.listAccountKeysOutput(
      { resourceGroupName, accountName: account.name },
      { parent: this },
    );
    this.primaryKey = pulumi.secret(keys.apply((k) => k.key1 ?? ""));
    this.secondaryKey = pulumi.secret(keys.apply((k) => k.key2 ?? ""));

    this.registerOutputs({
      endpoint: this.endpoint,
      accountName: this.accountName,
      deploymentNames: this.deploymentNames,
      primaryKey: this.primaryKey,
      secondaryKey: this.secondaryKey,
      allowedAddresses: this.allowedAddresses,
    });
  }
}
