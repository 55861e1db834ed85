/**
 * OIDC login for the DestinE Data Lake: password or device login at DEDL's Keycloak, DESP login
 * (DestinE platform account, token exchanged at DEDL), service accounts (client credentials),
 * verified access tokens renewed before expiry, typed errors that say what to do.
 *
 * ```ts
 * import { OidcAuth } from "./lib/auth/mod.ts";
 * await using auth = await OidcAuth.deviceCode(); // shows a URL and a code
 * console.log(auth.username, await auth.headers());
 * ```
 * @module
 */
export {
  type ClientCredentialsLoginOptions,
  type DespLoginOptions,
  type DeviceCodeLoginOptions,
  OidcAuth,
  type OidcAuthOptions,
  type PasswordLoginOptions,
} from "./oidc_auth.ts";
export type { AccessTokenOptions, TokenSource } from "./token_source.ts";
export type { DevicePrompt } from "./identity_provider.ts";
export { readPasswordFromTerminal, showDevicePromptOnTerminal } from "./terminal_prompts.ts";
export { defaultTokenCachePath, FileTokenCache, type TokenCache } from "./token_cache.ts";
export {
  type AccessTokenClaims,
  AccessTokenVerifier,
  type AccessTokenVerifierOptions,
} from "./access_token_verifier.ts";
export {
  DEDL_ALGORITHMS,
  DEDL_AUDIENCE,
  DEDL_CLIENT_ID,
  DEDL_DASK_ROLES,
  DEDL_EXCHANGE_CLIENT_ID,
  DEDL_ISSUER,
  DEDL_LEEWAY_SECONDS,
  DEFAULT_REFRESH_MARGIN_SECONDS,
  DEFAULT_TIMEOUT_MS,
  DESP_CLIENT_ID,
  DESP_ISSUER,
  DESP_REDIRECT_URI,
  DESP_SUBJECT_ISSUER,
} from "./dedl_defaults.ts";
export * from "./errors.ts";
