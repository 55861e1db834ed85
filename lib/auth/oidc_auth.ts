/**
 * Logging in to DEDL (Keycloak) and keeping a valid access token: password, device, DESP or
 * service-account login, verified tokens, renewal before expiry (refresh with the login's own
 * client id; for DESP, refresh at DESP and exchange again; for a service account, a new grant),
 * one renewal shared by concurrent callers, re-login or a typed error when the session has ended.
 * @module
 */
import { type AccessTokenClaims, AccessTokenVerifier } from "./access_token_verifier.ts";
import {
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
import { despPageLogin, despRenewal, exchangeDespTokens } from "./desp_login.ts";
import {
  IdentityProviderUnreachable,
  MissingRole,
  OneTimePasswordUnavailable,
  ReauthenticationRequired,
  ReloginMismatch,
} from "./errors.ts";
import { type DevicePrompt, type GrantedTokens, IdentityProvider } from "./identity_provider.ts";
import { readPasswordFromTerminal, showDevicePromptOnTerminal } from "./terminal_prompts.ts";
import {
  clientCredentialsRenewal,
  refreshTokenRenewal,
  type SessionRenewal,
} from "./session_renewal.ts";
import { type TokenCache, tokenCacheKey } from "./token_cache.ts";
import type { AccessTokenOptions, TokenSource } from "./token_source.ts";

export type { DevicePrompt } from "./identity_provider.ts";

/** Settings shared by every way of logging in. All have DEDL defaults. */
export interface OidcAuthOptions {
  /** Issuer URL; default DEDL's `https://identity.data.destination-earth.eu/auth/realms/dedl`. */
  issuer?: string;
  /** Public client id, used for the login and every refresh; default `dedl-stack-public-client`. */
  clientId?: string;
  /** Required `aud` of access tokens; default `account`; `null` skips the check. */
  audience?: string | null;
  /** Accepted token signing algorithms; default `["RS256"]`. */
  algorithms?: readonly string[];
  /** Clock tolerance for `exp`/`nbf`, in seconds; default 10. */
  leewaySeconds?: number;
  /**
   * Refresh this long before expiry, in seconds; default 30. The margin in effect is
   * `min(refreshMarginSeconds, lifetime / 2)`: a 30 s token is refreshed after 15 s, not at once.
   */
  refreshMarginSeconds?: number;
  /**
   * Called when the session has ended (refresh token revoked or expired, or after `logout()`);
   * returns a new login for the same issuer and client, e.g. `() => OidcAuth.deviceCode()`,
   * whose tokens this object takes over. Without it such calls throw `ReauthenticationRequired`.
   */
  relogin?: (reason: ReauthenticationRequired) => Promise<OidcAuth>;
  /** HTTP client for every call to the identity provider; default the global `fetch`. */
  fetch?: typeof fetch;
  /** Timeout of every single call to the identity provider, in ms; default 10 000. */
  timeoutMs?: number;
  /**
   * Keep the refresh token between runs (opt-in, e.g. `new FileTokenCache()`); a later login for
   * the same account resumes the session without a password. See `token_cache.ts` for the threat
   * model.
   */
  tokenCache?: TokenCache;
  /**
   * With a `tokenCache`: resume a live session of the account from it instead of logging in.
   * Default `true`, except when a `password` is given: credentials that are given are always
   * checked by the identity provider. `false` always logs in anew; the new session then takes
   * the cached one's place.
   */
  resume?: boolean;
  /** Accept an `http://` issuer on a host other than loopback (trusted test networks only). */
  allowInsecureHttp?: boolean;
  /** Clock in ms since the epoch, for tests; default `Date.now`. */
  now?: () => number;
}

/** Options of {@linkcode OidcAuth.password}. */
export interface PasswordLoginOptions extends OidcAuthOptions {
  /** The DEDL (DestinE) username. */
  username: string;
  /**
   * The password, sent once and not kept. When absent it is asked for: through `prompt`, else on
   * the terminal without echo.
   */
  password?: string;
  /** Asks the user for the password, e.g. a notebook input widget. */
  prompt?: (question: string) => Promise<string>;
}

/** Options of {@linkcode OidcAuth.deviceCode}. */
export interface DeviceCodeLoginOptions extends OidcAuthOptions {
  /**
   * Shows the verification URL and code to the user; default
   * {@linkcode showDevicePromptOnTerminal} (one line on stderr).
   */
  onPrompt?: (prompt: DevicePrompt) => void;
  /** Aborts the wait for the user's approval. */
  signal?: AbortSignal;
}

/** Options of {@linkcode OidcAuth.desp}. */
export interface DespLoginOptions extends OidcAuthOptions {
  /** The DESP (DestinE platform) username. */
  username: string;
  /**
   * The DESP password, sent once through DESP's login form and not kept. When absent it is asked
   * for: through `prompt`, else on the terminal without echo.
   */
  password?: string;
  /** Asks the user for the password, e.g. a notebook input widget. */
  prompt?: (question: string) => Promise<string>;
  /**
   * The one-time code, for accounts with a second factor: a code, or a function that returns
   * one when the login page asks (it is given the question to show). When absent and the page
   * asks, it is asked for on the terminal without echo.
   */
  otp?: string | ((question: string) => string | Promise<string>);
  /** DESP's issuer; default `https://auth.destine.eu/realms/desp`. */
  despIssuer?: string;
  /** DESP's public client DEDL users log in through; default `dedl-hda`. */
  despClientId?: string;
  /** The redirect URI registered for that client; default HDA's STAC URL (never loaded). */
  redirectUri?: string;
  /** DEDL's alias of DESP, the exchange's `subject_issuer`; default `desp-oidc`. */
  subjectIssuer?: string;
  /**
   * Realm roles of which the DEDL token must carry one, else {@linkcode MissingRole}; default
   * `stack-dask` and its quota variants (`stack-dask-high|medium|low`); `null` skips the check.
   */
  requiredRoles?: readonly string[] | null;
}

/** Options of {@linkcode OidcAuth.clientCredentials}. */
export interface ClientCredentialsLoginOptions
  extends Omit<OidcAuthOptions, "clientId" | "tokenCache" | "relogin"> {
  /** The service account's client id. */
  clientId: string;
  /** Its secret (never put it on a command line: read it from the environment or a file). */
  clientSecret: string;
}

interface Settings {
  /** The provider whose tokens are handed out (DEDL). */
  idp: IdentityProvider;
  verifier: AccessTokenVerifier;
  now: () => number;
  refreshMarginSeconds: number;
  relogin: ((reason: ReauthenticationRequired) => Promise<OidcAuth>) | undefined;
  tokenCache: TokenCache | undefined;
  cacheKey: string;
  renewal: SessionRenewal;
  /** Realm roles of which every token must carry one (none: no check). */
  requiredRoles: readonly string[];
}

interface Session {
  accessToken: string;
  refreshToken: string | undefined;
  /** Local time (ms) from which the token is refreshed before use. */
  refreshAt: number;
  /** Local time (ms) at which the token expires, from `expires_in`. */
  expiresAt: number;
}

/**
 * A DEDL login: hands out verified access tokens and refreshes them before they expire.
 *
 * ```ts
 * await using auth = await OidcAuth.password({ username: "alice" }); // asks for the password
 * const res = await fetch(url, { headers: await auth.headers() });
 * ```
 *
 * `await using` (or `[Symbol.asyncDispose]()`) logs out at the end of the scope, unless a token
 * cache is configured: then the session is kept for the next run.
 */
export class OidcAuth implements TokenSource, AsyncDisposable {
  readonly #settings: Settings;
  #session: Session | null = null;
  #claims: AccessTokenClaims = {};
  #refreshing: Promise<void> | null = null;

  private constructor(settings: Settings) {
    this.#settings = settings;
  }

  /**
   * Logs in with username and password (OAuth password grant), as the DEDL notebooks do. The
   * password is read from `password`, else `prompt`, else the terminal without echo; it is sent
   * once and not kept. With a `tokenCache` holding a live session for this user, no password is
   * needed.
   */
  static async password(options: PasswordLoginOptions): Promise<OidcAuth> {
    const settings = await OidcAuth.#settingsFor(options, options.username, DEDL_CLIENT_ID);
    const resumed = await OidcAuth.#resume(settings, resumes(options));
    if (resumed) return resumed;
    const question = `Password for ${options.username} at ${settings.idp.issuer}: `;
    const requestedAt = settings.now();
    const tokens = await settings.idp.passwordGrant(
      options.username,
      options.password ?? await (options.prompt ?? readPasswordFromTerminal)(question),
    );
    return await OidcAuth.#begin(settings, tokens, requestedAt);
  }

  /**
   * Logs in with the device authorization grant: `onPrompt` shows a URL and a code, the user
   * approves in any browser, and this resolves once they have. Polls at the provider's interval,
   * slows down when asked, and fails with `DeviceCodeExpired` when the code expires. No password
   * passes through this program.
   */
  static async deviceCode(options: DeviceCodeLoginOptions = {}): Promise<OidcAuth> {
    const settings = await OidcAuth.#settingsFor(options, "device login", DEDL_CLIENT_ID);
    const resumed = await OidcAuth.#resume(settings, options.resume ?? true);
    if (resumed) return resumed;
    const pending = await settings.idp.startDeviceAuthorization();
    (options.onPrompt ?? showDevicePromptOnTerminal)(pending.prompt);
    const requestedAt = settings.now();
    const tokens = await pending.waitForApproval(options.signal);
    return await OidcAuth.#begin(settings, tokens, requestedAt);
  }

  /**
   * Logs in with a DESP account (the DestinE platform's identity), as DEDL's own tools do:
   * DESP's login form with username and password, a one-time code when DESP asks for one, then
   * DESP's token exchanged at DEDL for a DEDL token (checked to carry a Stack Dask role). The
   * DEDL token is renewed through DESP's refresh token (refreshed at DESP, exchanged again),
   * else through `relogin`, else `ReauthenticationRequired`. The password is sent once and not
   * kept; with a `tokenCache` only DESP's refresh token is stored, and a later login of the same
   * account resumes without a password.
   */
  static async desp(options: DespLoginOptions): Promise<OidcAuth> {
    const timeoutMs = Math.round(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const [dedl, desp] = await Promise.all([
      OidcAuth.#settingsFor(options, options.username, DEDL_EXCHANGE_CLIENT_ID),
      IdentityProvider.discover({
        issuer: options.despIssuer ?? DESP_ISSUER,
        clientId: options.despClientId ?? DESP_CLIENT_ID,
        timeoutMs,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
      }),
    ]);
    const exchange = {
      dedl: dedl.idp,
      subjectIssuer: options.subjectIssuer ?? DESP_SUBJECT_ISSUER,
    };
    const settings: Settings = {
      ...dedl,
      renewal: despRenewal(desp, exchange),
      // The stored token is DESP's, so it is filed under DESP's issuer and client.
      cacheKey: tokenCacheKey(desp.issuer, desp.clientId, options.username),
      requiredRoles: options.requiredRoles === undefined
        ? DEDL_DASK_ROLES
        : options.requiredRoles ?? [],
    };
    const resumed = await OidcAuth.#resume(settings, resumes(options));
    if (resumed) return resumed;
    const username = options.username;
    const password = options.password ??
      await (options.prompt ?? readPasswordFromTerminal)(
        `Password for ${username} at ${desp.issuer}: `,
      );
    const despTokens = await despPageLogin({
      desp,
      redirectUri: options.redirectUri ?? DESP_REDIRECT_URI,
      username,
      password,
      oneTimeCode: oneTimeCodeSource(
        options.otp,
        username,
        `One-time code for ${username} at ${desp.issuer}: `,
      ),
      fetch: options.fetch ?? fetch,
      timeoutMs,
    });
    const requestedAt = settings.now();
    return await OidcAuth.#begin(
      settings,
      await exchangeDespTokens(exchange, despTokens),
      requestedAt,
    );
  }

  /**
   * Logs in as a service account (OAuth client credentials grant, e.g. a pipeline's DEDL
   * client). A new token is fetched before the current one expires (the secret is at hand,
   * and no refresh token is issued). The secret is never logged or stored.
   */
  static async clientCredentials(options: ClientCredentialsLoginOptions): Promise<OidcAuth> {
    const settings = await OidcAuth.#settingsFor(
      { ...options, tokenCache: undefined, relogin: undefined },
      options.clientId,
      options.clientId,
      options.clientSecret,
    );
    settings.renewal = clientCredentialsRenewal(settings.idp);
    const requestedAt = settings.now();
    return await OidcAuth.#begin(
      settings,
      await settings.idp.clientCredentialsGrant(),
      requestedAt,
    );
  }

  static async #settingsFor(
    options: OidcAuthOptions,
    account: string,
    defaultClientId: string,
    clientSecret?: string,
  ): Promise<Settings> {
    const timeoutMs = Math.round(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const now = options.now ?? Date.now;
    const idp = await IdentityProvider.discover({
      issuer: options.issuer ?? DEDL_ISSUER,
      clientId: options.clientId ?? defaultClientId,
      ...(clientSecret === undefined ? {} : { clientSecret }),
      timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
    });
    const verifier = new AccessTokenVerifier({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      audience: options.audience === undefined ? DEDL_AUDIENCE : options.audience,
      algorithms: options.algorithms ?? DEDL_ALGORITHMS,
      leewaySeconds: options.leewaySeconds ?? DEDL_LEEWAY_SECONDS,
      timeoutMs,
      now,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return {
      idp,
      verifier,
      now,
      refreshMarginSeconds: options.refreshMarginSeconds ?? DEFAULT_REFRESH_MARGIN_SECONDS,
      relogin: options.relogin,
      tokenCache: options.tokenCache,
      cacheKey: tokenCacheKey(idp.issuer, idp.clientId, account),
      renewal: refreshTokenRenewal(idp),
      requiredRoles: [],
    };
  }

  /** A login from the token cache's refresh token, if there is a live one and `allowed`. */
  static async #resume(settings: Settings, allowed: boolean): Promise<OidcAuth | undefined> {
    if (!allowed) return undefined;
    const cache = settings.tokenCache;
    const refreshToken = await cache?.load(settings.cacheKey);
    if (!cache || !refreshToken) return undefined;
    const requestedAt = settings.now();
    let tokens: GrantedTokens;
    try {
      tokens = await settings.renewal.renew(refreshToken);
    } catch (e) {
      if (!(e instanceof ReauthenticationRequired)) throw e;
      await cache.delete(settings.cacheKey);
      return undefined;
    }
    return await OidcAuth.#begin(settings, { refreshToken, ...tokens }, requestedAt);
  }

  static async #begin(
    settings: Settings,
    tokens: GrantedTokens,
    requestedAt: number,
  ): Promise<OidcAuth> {
    const auth = new OidcAuth(settings);
    await auth.#accept(tokens, requestedAt);
    return auth;
  }

  /**
   * A valid access token: the current one, or a refreshed one when it is within the refresh
   * margin of expiry or `forceRefresh` is set. Concurrent callers share one refresh request.
   * If the provider is unreachable during an early refresh, the current token is returned while
   * it lasts. When the session has ended, re-logs in through `relogin`, or throws
   * `ReauthenticationRequired`.
   */
  async accessToken(options: AccessTokenOptions = {}): Promise<string> {
    const session = this.#session;
    if (session && !options.forceRefresh && this.#settings.now() < session.refreshAt) {
      return session.accessToken;
    }
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    try {
      await this.#refreshing;
    } catch (e) {
      // A provider outage during an early refresh: the current token is good until it expires.
      const stillValid = session && !options.forceRefresh && this.#session === session &&
        this.#settings.now() < session.expiresAt;
      if (e instanceof IdentityProviderUnreachable && stillValid) return session.accessToken;
      throw e;
    }
    // A logout() may have run between the refresh and this continuation.
    if (!this.#session) throw new ReauthenticationRequired("logged out");
    return this.#session.accessToken;
  }

  /** HTTP headers carrying a valid access token: `{ Authorization: "Bearer …" }`. */
  async headers(): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await this.accessToken()}` };
  }

  /** Claims of the current (verified) access token. */
  get claims(): AccessTokenClaims {
    return this.#claims;
  }

  /** The logged-in user's name (`preferred_username`, else `sub`). */
  get username(): string {
    const name = this.#claims.preferred_username;
    return typeof name === "string" ? name : String(this.#claims.sub);
  }

  /** `${issuer}#${sub}`: the same for every login of the same user at the same issuer. */
  get identity(): string {
    return `${this.#settings.idp.issuer}#${this.#claims.sub}`;
  }

  /** The issuer this login belongs to. */
  get issuer(): string {
    return this.#settings.idp.issuer;
  }

  /**
   * Ends the session: revokes the refresh token at the provider (which ends the Keycloak
   * session) and removes it from the token cache. The local session is forgotten even if the
   * revocation fails (then `IdentityProviderUnreachable` is thrown). Later `accessToken()` calls
   * re-log in through `relogin`, or throw `ReauthenticationRequired`.
   */
  async logout(): Promise<void> {
    await this.#refreshing?.catch(() => {});
    const session = this.#session;
    this.#session = null;
    await this.#settings.tokenCache?.delete(this.#settings.cacheKey);
    if (session?.refreshToken) await this.#settings.renewal.revoke(session.refreshToken);
  }

  /**
   * End of an `await using` scope: with a token cache the session is kept for the next run and
   * only forgotten here; without one it is logged out. An unreachable provider is not an error
   * here (the session then ends by itself at the realm's idle timeout).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#settings.tokenCache) {
      await this.#refreshing?.catch(() => {});
      this.#session = null;
      return;
    }
    try {
      await this.logout();
    } catch (e) {
      if (!(e instanceof IdentityProviderUnreachable)) throw e;
    }
  }

  /** Shows who is logged in, never a token. */
  [Symbol.for("Deno.customInspect")](): string {
    const expires = this.#session ? new Date(this.#session.expiresAt).toISOString() : "logged out";
    return `OidcAuth { identity: "${this.identity}", username: "${this.username}", ` +
      `expires: ${expires} }`;
  }

  /** JSON form without tokens. */
  toJSON(): { identity: string; username: string } {
    return { identity: this.identity, username: this.username };
  }

  async #refresh(): Promise<void> {
    const { renewal, relogin, tokenCache, cacheKey, now } = this.#settings;
    try {
      if (!this.#session) throw new ReauthenticationRequired("logged out");
      const refreshToken = this.#session.refreshToken;
      const requestedAt = now();
      const tokens = await renewal.renew(refreshToken);
      await this.#accept({ ...(refreshToken ? { refreshToken } : {}), ...tokens }, requestedAt);
    } catch (e) {
      if (!(e instanceof ReauthenticationRequired)) throw e;
      this.#session = null;
      await tokenCache?.delete(cacheKey);
      if (!relogin) throw e;
      this.#adopt(await relogin(e));
      await this.#remember();
    }
  }

  /** Verifies a token answer and makes it the current session. */
  async #accept(tokens: GrantedTokens, requestedAt: number): Promise<void> {
    const claims = await this.#settings.verifier.verify(tokens.accessToken, { fresh: true });
    const needed = this.#settings.requiredRoles;
    if (needed.length > 0) {
      const roles = (claims.realm_access as { roles?: unknown } | undefined)?.roles;
      const held = Array.isArray(roles) ? roles.filter((r) => typeof r === "string") : [];
      if (!needed.some((r) => held.includes(r))) {
        const name = claims.preferred_username ?? claims.sub;
        throw new MissingRole(String(name), needed, held);
      }
    }
    // Expiry is counted from `expires_in` on the local clock, so clock skew does not shift it.
    const lifetime = tokens.expiresInSeconds ??
      Math.max(0, (claims.exp as number) - (claims.iat ?? (claims.exp as number)));
    const margin = Math.min(this.#settings.refreshMarginSeconds, lifetime / 2);
    const expiresAt = requestedAt + lifetime * 1000;
    this.#session = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt,
      refreshAt: expiresAt - margin * 1000,
    };
    this.#claims = Object.freeze({ ...claims });
    await this.#remember();
  }

  /** Takes over the session of a fresh login (from `relogin`). */
  #adopt(other: OidcAuth): void {
    const mine = this.#settings.idp;
    const theirs = other.#settings.idp;
    if (theirs.issuer !== mine.issuer || theirs.clientId !== mine.clientId) {
      throw new ReloginMismatch(
        `${theirs.issuer} (client ${theirs.clientId})`,
        `${mine.issuer} (client ${mine.clientId})`,
      );
    }
    if (!other.#session) throw new ReauthenticationRequired("relogin returned a logged-out login");
    this.#session = other.#session;
    this.#claims = other.#claims;
    other.#session = null;
  }

  async #remember(): Promise<void> {
    const { tokenCache, cacheKey } = this.#settings;
    const refreshToken = this.#session?.refreshToken;
    if (tokenCache && refreshToken) await tokenCache.store(cacheKey, refreshToken);
  }
}

/** Where the one-time code of a DESP login comes from, asked only when the page wants one. */
function oneTimeCodeSource(
  otp: DespLoginOptions["otp"],
  username: string,
  question: string,
): () => Promise<string> {
  if (typeof otp === "string") return () => Promise.resolve(otp);
  if (otp) return async () => await otp(question);
  return async () => {
    if (!Deno.stdin.isTerminal()) throw new OneTimePasswordUnavailable(username);
    return await readPasswordFromTerminal(question);
  };
}

/** Whether a login may resume a cached session: never with a password given (it is checked). */
function resumes(options: { resume?: boolean; password?: string }): boolean {
  return options.password === undefined && (options.resume ?? true);
}
