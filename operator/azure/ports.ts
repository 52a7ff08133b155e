// The one door from operator/azure to the operator's runtime: what Azure provisioning takes from it (time,
// logs, Secrets, events, the account objects, the error and redaction rules), declared or re-exported here
// and wired by operator/accounts. No other module of operator/azure imports the runtime (a unit test checks).
import type { ProviderConnection } from "../../crds/index.ts";
import type { AzureOpenAIAccount } from "./account.ts";

export { type Clock, sleep, systemClock, type TimerHandle } from "../clock.ts";
export { ANNOTATIONS, CONDITION, REASON, type Reason } from "../constants.ts";
export { isTerminal, TerminalError } from "../error-policy.ts";
export { redactText } from "../log.ts";
export { applyConditions, type ConditionIntent } from "../reconcile/conditions.ts";
export { fingerprint } from "../reconcile/credentials.ts";
export type {
  AzureStatusView,
  DeprovisionView,
  Provisioning,
  ProvisioningHost,
  ProvisionView,
} from "../reconcile/ports.ts";
export { checkSecretValue } from "../reconcile/secret-values.ts";
export { removeSecrets } from "../scrub.ts";

/** Structured logs; never secret values. */
export interface AzureLog {
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
}

/** A core/v1 Event about an object; its message carries no secret. */
export interface AzureEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The account's key Secret as written: the active key and the endpoint. */
export interface AccountKeyData {
  apiKey: string;
  endpoint: string;
}

/** The API server as the account reconciler uses it. */
export interface AccountKube {
  /** A Secret's decoded data, or undefined when it does not exist (never cached, never logged). */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Makes the account's key Secret hold `data`, owned by the account; returns whether it wrote. */
  ensureKeySecret(account: AzureOpenAIAccount, name: string, data: AccountKeyData): Promise<boolean>;
  /** Deletes a Secret; a missing one is already deleted. */
  removeSecret(namespace: string, name: string): Promise<void>;
  /** Merge-patches the account's metadata (finalizers), guarded by its resourceVersion. */
  patchMetadata(account: AzureOpenAIAccount, metadata: Record<string, unknown>): Promise<AzureOpenAIAccount>;
  /** Merge-patches the account's status subresource. */
  patchStatus(account: AzureOpenAIAccount, status: Record<string, unknown>): Promise<AzureOpenAIAccount>;
  /** Best effort: a refused Event is logged by the runtime, never thrown. */
  event(object: AzureOpenAIAccount | ProviderConnection, event: AzureEvent): Promise<void>;
}
