// The inline Pulumi program the operator runs for one account: the same AzureOpenAIAccount component as
// Pulumi.yaml's program, fed from the validated spec; its outputs are what provisioning hands back.
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import { argsFromSpec, type AccountSpec as ComponentSpec } from "../../pulumi/args.ts";
import { AzureOpenAIAccount } from "../../pulumi/openai-account.ts";

/** What a program is built from: the validated account (with its deployments) and its stack. */
export interface ProgramInput {
  account: ComponentSpec;
  stack: string;
}

/**
 * Builds the inline program of one update. Its outputs must include endpoint, accountName,
 * deploymentNames, allowedAddresses, primaryKey and secondaryKey. Injectable so tests run cloud-free.
 */
export type ProgramFactory = (input: ProgramInput) => PulumiFn;

/** The real program: one AzureOpenAIAccount (azure-native), named after the account. */
export const azureOpenAIProgram: ProgramFactory =
  ({ account }) =>
  async () => {
    const component = new AzureOpenAIAccount(account.accountName, argsFromSpec(account));
    return {
      endpoint: component.endpoint,
      accountName: component.accountName,
      deploymentNames: component.deploymentNames,
      allowedAddresses: component.allowedAddresses,
      primaryKey: component.primaryKey,
      secondaryKey: component.secondaryKey,
    };
  };
