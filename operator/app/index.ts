// The app client's public surface: the client, its error type and the wire schemas.
export {
  type AppClient,
  type AppClientLogger,
  type AppClientOptions,
  createAppClient,
  type DeleteOutcome,
} from "./client.ts";
export { AppError, type AppErrorKind } from "./errors.ts";
export { isOffLimits, type OffLimitsFields, offLimitsReason } from "./off-limits.ts";
export {
  APP_PROVIDERS,
  APP_SCOPES,
  AppConnection,
  AppConnectionFields,
  AppOrganizationMembership,
  AppProvider,
  AppScope,
  AppUserSummary,
  AppWhoami,
  roleManagesConnections,
  SECRET_FIELDS,
  type SecretField,
} from "./schemas.ts";
export { type TokenKind, tokenKind } from "./token.ts";
export type { AppRequestSample } from "./transport.ts";
