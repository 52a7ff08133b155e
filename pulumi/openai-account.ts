// The AzureOpenAIAccount component: one Azure OpenAI (Cognitive Services) account that denies by default and
// lets in the app's addresses, with one deployment per model and its keys as secret outputs.
import { cognitiveservices, resources } from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";
import { NetworkRules } from "./account-schema.ts";
import {
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
 * Guarantees: `networkAcls.defaultAction` is `networkRules.defaultAction` (Deny unless set) and the IP rules
 * always hold the app's three addresses (plus `networkRules.ipRules`, canonical, deduplicated, sorted);
 * private and reserved ranges are refused unless `networkRules.allowPrivateRanges`; local (key) auth stays
 * enabled; deployments are created one after another, since Azure refuses concurrent changes under one account.
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
  /** The IP rules the account carries: the app's addresses and `networkRules.ipRules`, canonical and sorted. */
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

    // Plain rules were checked above; rules given as Outputs are checked by the same schema once they resolve.
    const networkRules = pulumi.output(args.networkRules ?? {}).apply((rules) => {
      const result = NetworkRules.safeParse(rules);
      if (!result.success)
        throw new AzureOpenAIAccountArgsError(name, describeIssues(result.error, "networkRules"));
      return result.data;
    });
    this.allowedAddresses = networkRules.apply((rules) => allowedIpRules(rules.ipRules));
    const customSubDomainName = pulumi
      .all([args.customSubDomainName, args.accountName])
      .apply(([subdomain, account]) => subdomain ?? account.toLowerCase());
    const publicNetworkAccess = pulumi
      .output(args.publicNetworkAccess)
      .apply((access) => access ?? "Enabled");
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
        sku: { name: pulumi.output(args.sku).apply((sku) => sku ?? "S0") },
        properties: {
          customSubDomainName,
          publicNetworkAccess,
          disableLocalAuth: false,
          networkAcls: {
            defaultAction: networkRules.apply((rules) => rules.defaultAction),
            ipRules: this.allowedAddresses.apply((rules) => rules.map((value) => ({ value }))),
            virtualNetworkRules: networkRules.apply((rules) =>
              rules.virtualNetworkSubnetIds.map((id) => ({ id })),
            ),
          },
        },
        tags: args.tags,
      },
      { parent: this },
    );

    const deployments: cognitiveservices.Deployment[] = [];
    for (const deployment of args.deployments ?? []) {
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
              name: sku.apply((s) => s?.name ?? "Standard"),
              capacity: sku.apply((s) => s?.capacity ?? 10),
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
