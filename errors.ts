/**
 * Every error dedl-dask raises, in one place: the root {@linkcode DedlDaskError} (a stable
 * `code` and a `kind` on every error) and each layer's classes, the layer roots first among
 * them (`DaskProtocolError`, `AuthError`, `GatewayError`, `MultiClusterError`, `DatasetError`,
 * `CliError`).
 * `mod.ts` exports this module as the `errors` namespace:
 *
 * ```ts
 * import { errors, OidcAuth } from "./mod.ts";
 * try {
 *   await OidcAuth.password({ username: "me" });
 * } catch (e) {
 *   if (e instanceof errors.InvalidCredentials) console.error("wrong password");
 *   else if (e instanceof errors.DedlDaskError && e.kind === "unavailable") console.error(e.code);
 *   else throw e;
 * }
 * ```
 *
 * `docs/errors.md` lists every code with its class and kind.
 * @module
 */
export { DedlDaskError, type ErrorKind, isErrorKind } from "./base/mod.ts";
export {
  ClientClosed,
  ConnectFailed,
  ConnectionClosed,
  ConnectionLost,
  ConnectionRefused,
  ConnectTimeout,
  DaskProtocolError,
  DataLost,
  DecodeFailed,
  EncodeFailed,
  FrameTooLarge,
  FutureReleased,
  GatewayClusterNotFound,
  GraphBuildFailed,
  HandshakeFailed,
  InvalidAddress,
  InvalidArgument,
  InvalidArray,
  InvalidCollectionGraph,
  InvalidModule,
  InvalidModuleSyntax,
  ModuleImportFailed,
  PublishedDatasetExists,
  PublishedDatasetNotFound,
  RegistrationRefused,
  RemoteError,
  RemoteSerializationFailed,
  RequestTimeout,
  RestartFailed,
  RpcFailed,
  TaskCancelled,
  TlsHandshakeFailed,
  UnexpectedReply,
  UnsupportedSchedulerVersion,
  WorkerRunFailed,
  ZlibNotLoaded,
} from "./protocol/mod.ts";
export {
  AccountDisabled,
  AccountNotSetUp,
  AuthError,
  ClockSkewTooLarge,
  DeviceAuthorizationDenied,
  DeviceCodeExpired,
  IdentityProviderRejected,
  IdentityProviderUnreachable,
  InsecureIssuer,
  InvalidClientCredentials,
  InvalidCredentials,
  InvalidOneTimePassword,
  IssuerDiscoveryFailed,
  LoginPageChanged,
  MissingRole,
  OneTimePasswordUnavailable,
  PasswordEntryCancelled,
  PasswordUnavailable,
  ReauthenticationRequired,
  ReloginMismatch,
  TokenCacheInsecure,
  TokenCacheUnusable,
  type TokenCheck,
  TokenExchangeRefused,
  TokenVerificationFailed,
} from "./lib/auth/mod.ts";
export {
  ClusterAccessDenied,
  ClusterFailed,
  ClusterNotFound,
  ClusterNotRunning,
  ClusterStartTimeout,
  CreateAnswerLost,
  GatewayAuthRefused,
  GatewayError,
  GatewayUnavailable,
  InsecureGateway,
  InvalidGatewayAddress,
  InvalidOptions,
  InvalidWorkerCount,
  UnexpectedResponse,
  WorkersTimeout,
} from "./lib/gateway/mod.ts";
export {
  InvalidSiteRegistry,
  MissingLocation,
  MultiClusterError,
  SiteUnavailable,
  UnknownLocation,
} from "./lib/multicluster/mod.ts";
export {
  CliError,
  InvalidCommandLine,
  InvalidScript,
  LoginRecordsUnusable,
  NoSuchCluster,
  NotLoggedIn,
  SiteFailure,
} from "./lib/cli/errors.ts"; // not the CLI's entry: it would load the whole command line
export {
  DatasetError,
  InvalidExpression,
  InvalidStoreMetadata,
  InvalidStoreUrl,
  LocationConflict,
  QuickLookFailed,
  StoreNotFound,
  StoreUnreachable,
  UnexpectedResult,
  UnknownDimension,
  UnknownVariable,
} from "./lib/dataset/mod.ts";
