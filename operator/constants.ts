// The words the cluster sees: finalizer, field manager, annotations, condition types and reasons.
export const FINALIZER = "modelkeys.dev/app-connection";
export const FIELD_MANAGER = "modelkeys";
/** On an Organization: it stays until the connections that reference it have cleaned up the app. */
export const ORGANIZATION_FINALIZER = "modelkeys.dev/connections";
/** On an Organization's token Secret: it stays while an Organization still needs the token to clean up. */
export const TOKEN_FINALIZER = "modelkeys.dev/organization-token";

export const ANNOTATIONS = {
  /** Changing its value asks for a model check now. */
  refreshRequestedAt: "modelkeys.dev/refresh-requested-at",
  /**
   * Set to "true" on a deleting connection to drop the finalizer without touching the app, or on a deleting
   * Organization to stop waiting for its connections.
   */
  releaseFinalizer: "modelkeys.dev/release",
  /** Changing its value asks for an immediate sync to the app. */
  syncRequestedAt: "modelkeys.dev/sync-requested-at",
  /** Changing its value rotates a provisioned Azure key (secondary, switch, then primary). */
  rotateKeyRequestedAt: "modelkeys.dev/rotate-key-requested-at",
} as const;

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
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];
