// The app client's public surface: the client, its error type and the wire schemas.
export {
  type AppClient,
  type AppClientLogger,
  type AppClientOptions,
  createAppClient,
  type DeleteOutcome,
} from "./client.ts";
export { AppError, type AppErrorKind } from "./errors.ts";
export {
  APP_PROVIDERS,
  APP_SCOPES,
  AppConnection,
  AppConnectionFields,
  AppProvider,
  AppScope,
  AppUserSummary,
  AppWhoami,
  SECRET_FIELDS,
  type SecretField,
} from "./schemas.ts";
export { type TokenKind, tokenKind } from "./token.ts";
export type { AppRequestSample } from "./transport.ts";
