// The inline Pulumi program the operator runs for one account: the same AzureOpenAIAccount component as
// Pulumi.yaml's program, fed from the validated spec; its outputs are what provisioning hands back.
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import { z } from "zod";
import { argsFromSpec, type AccountSpec as ComponentSpec } from "../../pulumi/args.ts";
import { AzureOpenAIAccount } from "../../pulumi/openai-account.ts";

/** What a program is built from: the validated account (with its deployments) and its stack. */
export interface ProgramInput {
  account: ComponentSpec;
  stack: string;
}

/** The stack outputs every program must produce: what provisioning hands back. */
export const ProgramOutputs = z.object({
  endpoint: z.string(),
  accountName: z.string(),
  deploymentNames: z.array(z.string()),
  allowedAddresses: z.array(z.string()),
  primaryKey: z.string(),
  secondaryKey: z.string(),
});
export type ProgramOutputs = z.infer<typeof ProgramOutputs>;

/**
 * Builds the inline program of one update; its outputs must satisfy {@link ProgramOutputs} (the keys as
 * secrets). Injectable so tests run cloud-free.
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
