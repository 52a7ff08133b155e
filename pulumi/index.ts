// The Azure OpenAI component and its argument rules, as one import for Pulumi programs and the operator.
export { APP_ADDRESSES } from "../labelstudio/app-addresses.ts";
export {
  AccountSpec,
  type AccountSpecInput,
  type AzureOpenAIAccountArgs,
  AzureOpenAIAccountArgsError,
  type AzureOpenAIDeploymentArgs,
  argsFromSpec,
  DeploymentSpec,
  type DeploymentSpecInput,
} from "./args.ts";
export { allowedIpRules, canonicalIpRule, ipRuleProblem } from "./network-rules.ts";
export { AZURE_OPENAI_ACCOUNT_TYPE, AzureOpenAIAccount } from "./openai-account.ts";
