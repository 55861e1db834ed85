/**
 * How a login gets its next access token without the user: the part that differs between the
 * ways of logging in. A password or device login refreshes at DEDL with its refresh token; a
 * service account asks again with its secret; a DESP login refreshes at DESP and exchanges the
 * new DESP token at DEDL (`desp_login.ts`).
 * @module
 */
import { ReauthenticationRequired } from "./errors.ts";
import type { GrantedTokens, IdentityProvider } from "./identity_provider.ts";

/** Renewal of one login's tokens. */
export interface SessionRenewal {
  /**
   * New tokens, from the session's renewal token (a refresh token, if the login got one). A
   * renewal token that is no longer accepted (or missing where one is needed) is
   * `ReauthenticationRequired`.
   */
  renew(renewalToken: string | undefined): Promise<GrantedTokens>;
  /** Ends the session the renewal token belongs to (logout). */
  revoke(renewalToken: string): Promise<void>;
}

/** Refresh grant at `idp`, with the login's own client id. */
export function refreshTokenRenewal(idp: IdentityProvider): SessionRenewal {
  return {
    renew(refreshToken) {
      if (!refreshToken) {
        return Promise.reject(new ReauthenticationRequired("the provider issued no refresh token"));
      }
      return idp.refreshGrant(refreshToken);
    },
    revoke: (refreshToken) => idp.revoke(refreshToken),
  };
}

/**
 * A new client credentials grant (a service account's token is never refreshed: Keycloak issues
 * no refresh token for it, and the secret is at hand). Nothing to revoke.
 */
export function clientCredentialsRenewal(idp: IdentityProvider): SessionRenewal {
  return {
    renew: () => idp.clientCredentialsGrant(),
    revoke: () => Promise.resolve(),
  };
}
