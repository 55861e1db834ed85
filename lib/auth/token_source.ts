/**
 * The one thing other layers need from a login: a valid access token on demand.
 * @module
 */

/** Options of {@linkcode TokenSource.accessToken}. */
export interface AccessTokenOptions {
  /**
   * The server rejected the current token (e.g. a gateway answered 401): get a new one even if it
   * looks valid locally. Concurrent callers still share one refresh.
   */
  forceRefresh?: boolean;
}

/** Anything that can hand out bearer access tokens, e.g. `OidcAuth`. */
export interface TokenSource {
  /** A valid access token; `forceRefresh`: the server rejected the current one (gateway 401). */
  accessToken(options?: AccessTokenOptions): Promise<string>;
  /** Stable identity of the token holder, e.g. `${issuer}#${sub}`; changes when the user changes. */
  readonly identity: string;
}
