// Azure OpenAI provisioning for the reconciler: the AzureProvisioner contract and its Pulumi implementation.
export {
  type AccountKeyService,
  ArmAccountKeys,
  type ArmAccountKeysOptions,
  AzureApiError,
} from "./account-keys.ts";
export {
  type KeptStateOptions,
  PROJECT_NAME,
  type ProvisionEvent,
  type PulumiAutomationOptions,
  PulumiAutomationProvisioner,
} from "./automation.ts";
export { componentSpecFor } from "./component-spec.ts";
export { automationSettingsFromEnv, ENV } from "./config.ts";
export {
  azureOpenAIProgram,
  type ProgramFactory,
  type ProgramInput,
  ProgramOutputs,
} from "./inline-program.ts";
export {
  ensurePassphrase,
  PassphraseMissingError,
  type PassphraseRef,
  type PassphraseSecrets,
} from "./passphrase.ts";
export { armPendingCreateIds, type PendingCreateId, settlePendingCreates } from "./pending-creates.ts";
export * from "./provisioner.ts";
export { redactPulumiMessage } from "./redact.ts";
export { stackNameFor } from "./stack-name.ts";
export { StackQueue } from "./stack-queue.ts";
export { type BrokenLock, breakStaleLocks } from "./stale-locks.ts";
export * from "./state-store.ts";
