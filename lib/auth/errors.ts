/**
 * Errors raised by the OIDC login layer: one class per condition, each with a stable `code`,
 * saying what went wrong and what to do. None of them carries a password or a token, in its
 * message, its fields or its `cause`.
 * @module
 */
import { DedlDaskError } from "../../base/mod.ts";

/** The category of every error the login layer raises; catch it for "the login failed". */
export abstract class AuthError extends DedlDaskError {}

/** The identity provider refused the username/password pair. */
export class InvalidCredentials extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_CREDENTIALS";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `serverMessage` is the provider's `error_description`. */
  constructor(
    /** The username that was tried. */
    readonly username: string,
    /** The identity provider's own words, e.g. `Invalid user credentials`. */
    readonly serverMessage: string,
  ) {
    super(
      `login as "${username}" failed: the identity provider says "${serverMessage}"; check the ` +
        `username and password (DEDL: the ones of your DestinE account)`,
    );
  }
}

/**
 * The account exists but cannot log in yet: Keycloak's "Account is not fully set up" (missing
 * email/name, a temporary password or another required action).
 */
export class AccountNotSetUp extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_ACCOUNT_NOT_SET_UP";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `accountUrl` is where the user completes the setup. */
  constructor(
    /** The username that was tried. */
    readonly username: string,
    /** The identity provider's own words. */
    readonly serverMessage: string,
    /** Where the user can finish the setup (the realm's account console). */
    readonly accountUrl: string,
  ) {
    super(
      `account "${username}" is not fully set up ("${serverMessage}"): log in once in a browser ` +
        `at ${accountUrl} and complete the requested steps (profile fields, new password), then retry`,
    );
  }
}

/** The account is disabled, permanently or for a while (e.g. after too many failed logins). */
export class AccountDisabled extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_ACCOUNT_DISABLED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `serverMessage` is the provider's `error_description`. */
  constructor(
    /** The username that was tried. */
    readonly username: string,
    /** The identity provider's own words, e.g. `Account disabled`. */
    readonly serverMessage: string,
  ) {
    super(
      `account "${username}" cannot log in: the identity provider says "${serverMessage}"; wait ` +
        `if it is temporary, otherwise ask the DEDL support to enable the account`,
    );
  }
}

/** The identity provider could not be reached or did not answer in time. */
export class IdentityProviderUnreachable extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_IDENTITY_PROVIDER_UNREACHABLE";
  /** Kind of failure. */
  readonly kind = "unavailable";
  /** `reason` says what failed at `url`. */
  constructor(
    /** The URL that was called. */
    readonly url: string,
    /** What failed, e.g. `connection refused` or `no answer within 10000 ms`. */
    readonly reason: string,
  ) {
    super(
      `identity provider unreachable at ${url}: ${reason}; check the network and the issuer URL, ` +
        `or retry later`,
    );
  }
}

/**
 * The issuer URL does not lead to an OpenID Provider that calls itself by that URL: discovery
 * failed, or the discovered `issuer` differs (host, port, `/auth` prefix, realm name).
 */
export class IssuerDiscoveryFailed extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_ISSUER_DISCOVERY_FAILED";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `reason` says what was wrong with the issuer's metadata. */
  constructor(
    /** The issuer URL as configured. */
    readonly issuer: string,
    /** What was wrong. */
    readonly reason: string,
  ) {
    super(
      `OpenID discovery for issuer ${issuer} failed: ${reason}; use the issuer exactly as the ` +
        `provider announces it (DEDL: https://identity.data.destination-earth.eu/auth/realms/dedl)`,
    );
  }
}

/**
 * The issuer is plain `http://` on a host other than loopback: passwords and tokens would cross
 * the network unencrypted.
 */
export class InsecureIssuer extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_INSECURE_ISSUER";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `issuer` is the refused `http://` URL. */
  constructor(
    /** The issuer URL as configured. */
    readonly issuer: string,
  ) {
    super(
      `refusing plain HTTP to ${issuer}: use an https:// issuer (http:// is accepted only on ` +
        `loopback, or with allowInsecureHttp: true for a trusted test network)`,
    );
  }
}

/**
 * The identity provider refused a request for a reason other than the user's credentials, e.g.
 * the client is not allowed this grant (`unauthorized_client`) or the request was malformed.
 */
export class IdentityProviderRejected extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_IDENTITY_PROVIDER_REJECTED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** Keeps the OAuth `error` and description of the refusal. */
  constructor(
    /** What was asked, e.g. `password grant`. */
    readonly operation: string,
    /** The OAuth error code, e.g. `unauthorized_client`. */
    readonly error: string,
    /** The provider's description, if any. */
    readonly serverMessage: string | undefined,
    /** HTTP status of the answer. */
    readonly status: number,
  ) {
    super(
      `${operation} refused by the identity provider: ${error}` +
        (serverMessage ? ` ("${serverMessage}")` : "") +
        `; check the client id and that the client allows this grant`,
    );
  }
}

/**
 * The refresh token is no longer accepted (revoked by logout or an administrator, session idle
 * or maximum lifespan reached) and no `relogin` callback is configured, or the session was
 * logged out locally. Log in again.
 */
export class ReauthenticationRequired extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_REAUTHENTICATION_REQUIRED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `reason` is the provider's description, or `logged out`. */
  constructor(
    /** Why, e.g. the provider's `Session not active`, or `logged out`. */
    readonly reason: string,
  ) {
    super(
      `the login session ended (${reason}): log in again, or pass a relogin callback to do it ` +
        `automatically`,
    );
  }
}

/** The local clock and the identity provider's clock disagree by more than the allowed leeway. */
export class ClockSkewTooLarge extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLOCK_SKEW_TOO_LARGE";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `skewSeconds` is local time minus the token's `iat`. */
  constructor(
    /** Local time minus the token's issue time, in seconds (positive: local clock ahead). */
    readonly skewSeconds: number,
    /** The leeway allowed, in seconds. */
    readonly leewaySeconds: number,
  ) {
    super(
      `the local clock is ${Math.abs(Math.round(skewSeconds))} s ` +
        `${skewSeconds > 0 ? "ahead of" : "behind"} the identity provider's (leeway ` +
        `${leewaySeconds} s), so its tokens look expired or not yet valid: synchronise the clock ` +
        `(NTP, e.g. 'timedatectl set-ntp true')`,
    );
  }
}

/** Which check an access token failed. */
export type TokenCheck =
  | "format"
  | "algorithm"
  | "key"
  | "signature"
  | "issuer"
  | "audience"
  | "expiry"
  | "not-before"
  | "claims"
  | "jwks";

/** An access token failed verification; `check` names the failing check. */
export class TokenVerificationFailed extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_TOKEN_VERIFICATION_FAILED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `check` names the failing check, `detail` the verifier's words. */
  constructor(
    /** The failing check. */
    readonly check: TokenCheck,
    /** Details from the verifier. */
    readonly detail: string,
  ) {
    super(
      `access token rejected by the ${check} check: ${detail}; ` + TOKEN_CHECK_ADVICE[check],
    );
  }
}

const TOKEN_CHECK_ADVICE: Record<TokenCheck, string> = {
  format: "the identity provider did not return a JWT access token",
  algorithm: "the token's signing algorithm is not in the allowed list (default RS256)",
  key: "no key of the issuer's JWKS matches the token; it was not issued by this issuer",
  signature: "the signature does not match the issuer's key; the token was forged or altered",
  issuer: "the token comes from another issuer; check the issuer URL (host, /auth, realm)",
  audience: "the token is not meant for this audience; add an audience mapper to the client " +
    "or configure the expected audience",
  expiry: "the token has expired; refresh or log in again",
  "not-before": "the token is not valid yet; check the local clock",
  claims: "a required claim is missing or malformed",
  jwks: "the issuer's key set (JWKS) could not be fetched; check the network",
};

/** The device code expired before the user approved the login. */
export class DeviceCodeExpired extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_DEVICE_CODE_EXPIRED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `expiresInSeconds` is the code's announced lifetime. */
  constructor(
    /** How long the code was valid, in seconds. */
    readonly expiresInSeconds: number,
  ) {
    super(
      `the device login was not approved within ${expiresInSeconds} s and the code expired: ` +
        `start the login again and approve it in the browser sooner`,
    );
  }
}

/** The user (or the provider) refused the device login. */
export class DeviceAuthorizationDenied extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_DEVICE_AUTHORIZATION_DENIED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `serverMessage` is the provider's description, if any. */
  constructor(
    /** The provider's description, if any. */
    readonly serverMessage: string | undefined,
  ) {
    super(
      `the device login was denied` + (serverMessage ? ` ("${serverMessage}")` : "") +
        `: start it again and choose "Yes" on the consent page`,
    );
  }
}

/** No password was given and there is no terminal (and no prompt function) to ask for one. */
export class PasswordUnavailable extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_PASSWORD_UNAVAILABLE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** The message says how to provide a password instead. */
  constructor() {
    super(
      "no password given and stdin is not a terminal: pass `password`, a `prompt` function, or " +
        "use OidcAuth.deviceCode() for non-interactive runs",
    );
  }
}

/** The user cancelled the password prompt (Ctrl-C, or Ctrl-D on an empty line). */
export class PasswordEntryCancelled extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_PASSWORD_ENTRY_CANCELLED";
  /** Kind of failure. */
  readonly kind = "cancelled";
  /** The user pressed Ctrl-C or Ctrl-D. */
  constructor() {
    super("password entry cancelled");
  }
}

/**
 * The token cache file can be read by other users (or is owned by someone else), so the refresh
 * token in it may have leaked.
 */
export class TokenCacheInsecure extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_TOKEN_CACHE_INSECURE";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `reason` says why the file is not private. */
  constructor(
    /** The cache file. */
    readonly path: string,
    /** Why, e.g. `mode 0644`. */
    readonly reason: string,
  ) {
    super(
      `token cache ${path} is not private (${reason}): delete it (and log out elsewhere if ` +
        `others could read it); a new one is written with mode 0600`,
    );
  }
}

/** The one-time code (second factor) of a DESP login was not accepted. */
export class InvalidOneTimePassword extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_ONE_TIME_PASSWORD";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `serverMessage` is what the login page said. */
  constructor(
    /** The username that was tried. */
    readonly username: string,
    /** The login page's own words, e.g. `Invalid authenticator code.` */
    readonly serverMessage: string,
  ) {
    super(
      `the one-time code for "${username}" was not accepted (the login page says ` +
        `"${serverMessage}"): log in again with the code your authenticator app shows now ` +
        `(codes change every 30 s and each one works once)`,
    );
  }
}

/** The login asks for a one-time code, and there is no way to ask the user for one. */
export class OneTimePasswordUnavailable extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_ONE_TIME_PASSWORD_UNAVAILABLE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `username` is the account whose login asks for the code. */
  constructor(
    /** The account. */
    readonly username: string,
  ) {
    super(
      `the DESP login of "${username}" asks for a one-time code, and none was given and stdin ` +
        `is not a terminal: pass \`otp\` (a code, or a function that returns one)`,
    );
  }
}

/**
 * The DEDL token carries no role the gateways need: the account has not been granted Stack Dask
 * at DEDL (yet).
 */
export class MissingRole extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_MISSING_ROLE";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `roles` are the realm roles the token does carry. */
  constructor(
    /** The account. */
    readonly username: string,
    /** The roles of which one is needed. */
    readonly needed: readonly string[],
    /** The realm roles the token carries. */
    readonly roles: readonly string[],
  ) {
    super(
      `the DEDL account "${username}" has none of the roles ${needed.join(", ")} (it has: ` +
        `${roles.length ? roles.join(", ") : "none"}): request Stack Dask access for your ` +
        `account at DEDL (DEDL documentation: "How to request roles for Stack Dask on My ` +
        `DataLake Services"), then log in again`,
    );
  }
}

/**
 * The identity provider's login page does not look as expected (no login form, or an unknown
 * page where a form or a redirect was due): it has changed, and this version cannot log in
 * through it.
 */
export class LoginPageChanged extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_LOGIN_PAGE_CHANGED";
  /** Kind of failure. */
  readonly kind = "protocol";
  /** `expected` says what was looked for, `found` what the page showed. */
  constructor(
    /** The page's URL, without its query (which holds session codes). */
    readonly url: string,
    /** What was looked for, e.g. `a form with username and password fields`. */
    readonly expected: string,
    /** What the page showed instead (title, messages). */
    readonly found: string,
  ) {
    super(
      `the login page ${url} has no ${expected} (it shows: ${found || "nothing recognisable"}): ` +
        `the identity provider's login pages have changed; update dedl-dask, or log in with ` +
        `OidcAuth.deviceCode() meanwhile`,
    );
  }
}

/** DEDL refused to exchange the DESP token for a DEDL token. */
export class TokenExchangeRefused extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_TOKEN_EXCHANGE_REFUSED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** Keeps the OAuth `error` and description of the refusal. */
  constructor(
    /** The DEDL issuer that refused. */
    readonly issuer: string,
    /** The `subject_issuer` sent (DEDL's alias of DESP, `desp-oidc`). */
    readonly subjectIssuer: string,
    /** The OAuth error code, e.g. `access_denied`. */
    readonly error: string,
    /** The provider's description, e.g. `Client not allowed to exchange`. */
    readonly serverMessage: string,
    /** HTTP status of the answer. */
    readonly status: number,
  ) {
    super(
      `${issuer} refused to exchange the DESP token (subject issuer "${subjectIssuer}"): ` +
        `${error}${serverMessage ? ` ("${serverMessage}")` : ""}; the DESP login itself ` +
        `worked — check the DEDL issuer and exchange client, and that your DESP account may use ` +
        `DEDL (ask the DEDL support if it persists)`,
    );
  }
}

/** A service account's client id or secret was refused. */
export class InvalidClientCredentials extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_CLIENT_CREDENTIALS";
  /** Kind of failure. */
  readonly kind = "auth";
  /** `serverMessage` is the provider's `error_description`. */
  constructor(
    /** The service account's client id. */
    readonly clientId: string,
    /** The identity provider's own words. */
    readonly serverMessage: string,
  ) {
    super(
      `service account "${clientId}" was refused ("${serverMessage}"): check the client id and ` +
        `secret (a secret regenerated at DEDL replaces the old one)`,
    );
  }
}

/**
 * The `relogin` callback returned a login for another issuer or client than the session it was
 * to renew, so its tokens cannot take that session's place.
 */
export class ReloginMismatch extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_RELOGIN_MISMATCH";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `returned` and `expected` name issuer and client. */
  constructor(
    /** The issuer and client of the login `relogin` returned. */
    readonly returned: string,
    /** The issuer and client of the session being renewed. */
    readonly expected: string,
  ) {
    super(
      `relogin returned a login for ${returned}; expected ${expected}: make relogin log in at ` +
        `the same issuer with the same client`,
    );
  }
}

/** The token cache file cannot be read or written (permissions, a folder in its place, a full disk). */
export class TokenCacheUnusable extends AuthError {
  /** Stable code of the condition. */
  readonly code = "ERR_TOKEN_CACHE_UNUSABLE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** `reason` is the file system's error; it is also the `cause`. */
  constructor(
    /** The cache file. */
    readonly path: string,
    /** What was tried: `read` or `write`. */
    readonly operation: "read" | "write",
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `cannot ${operation} the token cache ${path} (${reason}): fix its permissions, or use ` +
        `another file`,
      options,
    );
  }
}
