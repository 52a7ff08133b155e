// The words the cluster sees: finalizer, field manager, annotations, condition types and reasons.
export const FINALIZER = "modelkeys.dev/app-connection";
export const FIELD_MANAGER = "modelkeys";
/** On an Organization: it stays until the connections that reference it have cleaned up the app. */
export const ORGANIZATION_FINALIZER = "modelkeys.dev/connections";
/** On an Organization's token Secret: it stays while an Organization still needs the token to clean up. */
export const TOKEN_FINALIZER = "modelkeys.dev/organization-token";

/** The annotations the operator acts on: part of the API, so they live in crds/. */
export { ANNOTATIONS } from "../crds/annotations.ts";

export const CONDITION = {
  Ready: "Ready",
  /** kstatus: True while the operator is working or retrying on its own (InProgress). */
  Reconciling: "Reconciling",
  /** kstatus: True while progress waits on a person (Failed). */
  Stalled: "Stalled",
  AppSynced: "AppSynced",
  CredentialsValid: "CredentialsValid",
  ModelsAvailable: "ModelsAvailable",
  OpenAICompatible: "OpenAICompatible",
  JSONMode: "JSONMode",
  Provisioned: "Provisioned",
  /** True when the key is older than its max age (spec.maxKeyAge or the Organization's); Ready is not affected. */
  KeyRotationDue: "KeyRotationDue",
} as const;
export type ConditionType = (typeof CONDITION)[keyof typeof CONDITION];

/** Every reason the operator writes; each is documented in README.md. */
export const REASON = {
  Synced: "Synced",
  Reconciling: "Reconciling",
  Deleting: "Deleting",
  OrganizationNotFound: "OrganizationNotFound",
  OrganizationNotReady: "OrganizationNotReady",
  SecretNotFound: "SecretNotFound",
  SecretKeyMissing: "SecretKeyMissing",
  InvalidSecretValue: "InvalidSecretValue",
  InvalidToken: "InvalidToken",
  InsufficientRole: "InsufficientRole",
  OrganizationMismatch: "OrganizationMismatch",
  AppUnreachable: "AppUnreachable",
  AppRejected: "AppRejected",
  DuplicateProvider: "DuplicateProvider",
  ExistsInApp: "ExistsInApp",
  Adopted: "Adopted",
  Valid: "Valid",
  InvalidCredentials: "InvalidCredentials",
  RotationHeld: "RotationHeld",
  RateLimited: "RateLimited",
  ProviderUnavailable: "ProviderUnavailable",
  NetworkRestricted: "NetworkRestricted",
  ModelsMissing: "ModelsMissing",
  NoModelsAvailable: "NoModelsAvailable",
  ModelsAvailable: "ModelsAvailable",
  NotChecked: "NotChecked",
  JSONModeSupported: "JSONModeSupported",
  JSONModeUnsupported: "JSONModeUnsupported",
  NotOpenAICompatible: "NotOpenAICompatible",
  EgressDenied: "EgressDenied",
  Provisioning: "Provisioning",
  ProvisionFailed: "ProvisionFailed",
  Provisioned: "Provisioned",
  /** A provisioned connection's AzureOpenAIAccount does not exist in its namespace. */
  AccountNotFound: "AccountNotFound",
  /** A provisioned connection waits for its AzureOpenAIAccount (its deployment, endpoint or key). */
  AccountNotReady: "AccountNotReady",
  KeyPastMaxAge: "KeyPastMaxAge",
  KeyWithinMaxAge: "KeyWithinMaxAge",
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];
