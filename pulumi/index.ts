// The Azure OpenAI component and its argument rules, as one import for Pulumi programs and the operator.
export { APP_ADDRESSES } from "../labelstudio/app-addresses.ts";
export {
  AccountSettings,
  type AccountSettingsInput,
  ConnectionDeployment,
  Deployment,
  type DeploymentInput,
  DeploymentSku,
  IpRule,
  MAX_EXTRA_IP_RULES,
  MAX_IP_RULES,
  MAX_SUBNET_RULES,
  NetworkRules,
  type NetworkRulesInput,
  networkSummary,
  SUBNET_ID_PATTERN,
  SubnetId,
  VERSION_UPGRADE_OPTIONS,
} from "./account-schema.ts";
export {
  AccountSpec,
  type AccountSpecInput,
  type AzureOpenAIAccountArgs,
  AzureOpenAIAccountArgsError,
  type AzureOpenAIDeploymentArgs,
  argsFromSpec,
  type DeepInput,
  DeploymentSpec,
  type DeploymentSpecInput,
} from "./args.ts";
export {
  allowedIpRules,
  canonicalIpRule,
  ipRuleProblem,
  PRIVATE_RANGES,
  privateRangeOf,
} from "./network-rules.ts";
export { AZURE_OPENAI_ACCOUNT_TYPE, AzureOpenAIAccount } from "./openai-account.ts";
