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

/** DESP, the DestinE platform's identity provider (Keycloak realm `desp`). */
export const DESP_ISSUER = "https://auth.destine.eu/realms/desp";

/** DESP's public client through which DEDL users log in (as DEDL's own tools do). */
export const DESP_CLIENT_ID = "dedl-hda";

/** The redirect URI registered for {@link DESP_CLIENT_ID}; the login stops at it, never loads it. */
export const DESP_REDIRECT_URI = "https://hda.data.destination-earth.eu/stac";

/** DEDL's name for DESP as an identity provider: the `subject_issuer` of the token exchange. */
export const DESP_SUBJECT_ISSUER = "desp-oidc";

/** DEDL's public client that exchanges DESP tokens for DEDL ones (also the token audience). */
export const DEDL_EXCHANGE_CLIENT_ID = "hda-public";

/**
 * Realm roles of which a DEDL token must carry one for Stack Dask: the access role and its quota
 * variants, which DEDL's gateways map to worker sizes.
 */
export const DEDL_DASK_ROLES: readonly string[] = [
  "stack-dask",
  "stack-dask-high",
  "stack-dask-medium",
  "stack-dask-low",
];
