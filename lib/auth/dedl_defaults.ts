/**
 * DestinE Data Lake identity settings: the values every login uses unless told otherwise.
 * @module
 */

/** DEDL's Keycloak realm (legacy `/auth` prefix). */
export const DEDL_ISSUER = "https://identity.data.destination-earth.eu/auth/realms/dedl";

/** DEDL's public login client; tokens are refreshed with the same id. */
export const DEDL_CLIENT_ID = "dedl-stack-public-client";

/** The audience DEDL's dask-gateways require in access tokens. */
export const DEDL_AUDIENCE = "account";

/** Clock leeway for `exp`/`nbf`, as DEDL's gateways allow. */
export const DEDL_LEEWAY_SECONDS = 10;

/** Only RS256, as DEDL's gateways accept. */
export const DEDL_ALGORITHMS: readonly string[] = ["RS256"];

/**
 * Refresh this long before expiry. The margin in effect is `min(margin, lifetime / 2)`, so short
 * tokens (e.g. a 30 s test realm) are still used for half their life instead of refreshed on
 * every call.
 */
export const DEFAULT_REFRESH_MARGIN_SECONDS = 30;

/** Timeout of every single call to the identity provider. */
export const DEFAULT_TIMEOUT_MS = 10_000;
