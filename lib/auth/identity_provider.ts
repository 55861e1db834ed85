/**
 * The calls to the OpenID Provider (discovery; password, refresh, device, authorization code,
 * client credentials and token exchange grants; revocation) through openid-client, with its
 * errors turned into this layer's typed errors.
 * @module
 */
import type * as OpenIdClient from "npm:openid-client@6.9.0";
import {
  AccountDisabled,
  AccountNotSetUp,
  type AuthError,
  DeviceAuthorizationDenied,
  DeviceCodeExpired,
  IdentityProviderRejected,
  IdentityProviderUnreachable,
  InsecureIssuer,
  InvalidClientCredentials,
  InvalidCredentials,
  IssuerDiscoveryFailed,
  ReauthenticationRequired,
  TokenExchangeRefused,
} from "./errors.ts";

/**
 * openid-client, loaded by the first {@link IdentityProvider.discover} (every other use comes
 * after one): programs that are handed a token never pay for loading it.
 */
let oidc: typeof OpenIdClient;

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/** An authorization code login under way (see {@link IdentityProvider.authorizationCodeLogin}). */
export interface AuthorizationCodeLogin {
  /** The authorization request to open. */
  readonly url: string;
  /** Redeems the code of the provider's redirect (`callback`: the full `Location`). */
  finish(callback: string): Promise<GrantedTokens>;
}

/** Tokens from one successful grant. */
export interface GrantedTokens {
  accessToken: string;
  /** Absent when the provider issues none (then no refresh is possible). */
  refreshToken?: string;
  /** `expires_in` of the answer, in seconds. */
  expiresInSeconds?: number;
}

/** Settings of {@linkcode IdentityProvider.discover}. */
export interface IdentityProviderOptions {
  /** Issuer URL, exactly as the provider announces it. */
  issuer: string;
  /** OAuth client id. */
  clientId: string;
  /** The client's secret, for a confidential client (service account); public clients have none. */
  clientSecret?: string;
  /** Timeout of every call, in milliseconds. */
  timeoutMs: number;
  /** HTTP client for every call (tests count requests through it). */
  fetch?: typeof fetch;
  /** Allow `http://` on hosts other than loopback. */
  allowInsecureHttp?: boolean;
}

/** What the user must see to approve a device login. */
export interface DevicePrompt {
  /** Page where the user enters the code. */
  verificationUri: string;
  /** The same page with the code filled in, if the provider offers it. */
  verificationUriComplete?: string;
  /** The code to enter. */
  userCode: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** One OpenID Provider and one public client of it. */
export class IdentityProvider {
  readonly #config: OpenIdClient.Configuration;
  readonly #timeoutMs: number;

  private constructor(config: OpenIdClient.Configuration, timeoutMs: number) {
    this.#config = config;
    this.#timeoutMs = timeoutMs;
  }

  /** Reads the provider's metadata from `<issuer>/.well-known/openid-configuration`. */
  static async discover(options: IdentityProviderOptions): Promise<IdentityProvider> {
    let url: URL;
    try {
      url = new URL(options.issuer);
    } catch {
      throw new IssuerDiscoveryFailed(options.issuer, "not a URL");
    }
    const insecure = url.protocol === "http:";
    if (insecure && !LOOPBACK_HOSTS.has(url.hostname) && !options.allowInsecureHttp) {
      throw new InsecureIssuer(options.issuer);
    }
    const fetchImpl = options.fetch;
    const timeout = options.timeoutMs / 1000;
    const discoveryUrl = `${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    let config: OpenIdClient.Configuration;
    oidc ??= await import("npm:openid-client@6.9.0");
    try {
      const clientAuth = options.clientSecret === undefined
        ? oidc.None()
        : oidc.ClientSecretPost(options.clientSecret);
      config = await oidc.discovery(url, options.clientId, undefined, clientAuth, {
        timeout,
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        ...(fetchImpl
          ? { [oidc.customFetch]: (u, init) => fetchImpl(u, init as RequestInit) }
          : {}),
      });
    } catch (e) {
      throw discoveryError(e, options.issuer, discoveryUrl, options.timeoutMs);
    }
    if (!config.serverMetadata().jwks_uri) {
      throw new IssuerDiscoveryFailed(options.issuer, "the metadata has no jwks_uri");
    }
    return new IdentityProvider(config, options.timeoutMs);
  }

  /** The issuer, as discovered (equal to the configured one). */
  get issuer(): string {
    return this.#config.serverMetadata().issuer;
  }

  /** The client id used for every grant, refreshes included. */
  get clientId(): string {
    return this.#config.clientMetadata().client_id;
  }

  /** The issuer's key set URL. */
  get jwksUri(): string {
    return this.#config.serverMetadata().jwks_uri!;
  }

  /** Keycloak's account console, where users finish their account setup. */
  get accountUrl(): string {
    return `${this.issuer}/account`;
  }

  get #tokenEndpoint(): string {
    return this.#config.serverMetadata().token_endpoint ?? this.issuer;
  }

  /** Resource owner password grant. The password is sent once and not kept. */
  async passwordGrant(username: string, password: string): Promise<GrantedTokens> {
    try {
      return granted(
        await oidc.genericGrantRequest(this.#config, "password", { username, password }),
      );
    } catch (e) {
      throw this.#error(e, "password grant", this.#tokenEndpoint, (error, message) => {
        if (error !== "invalid_grant") return undefined;
        if (/not fully set up/i.test(message)) {
          return new AccountNotSetUp(username, message, this.accountUrl);
        }
        if (/disabled/i.test(message)) return new AccountDisabled(username, message);
        return new InvalidCredentials(username, message);
      });
    }
  }

  /**
   * Refresh grant with the same client id as the login. A refresh token the provider no longer
   * accepts (`invalid_grant`) becomes {@linkcode ReauthenticationRequired}.
   */
  async refreshGrant(refreshToken: string): Promise<GrantedTokens> {
    try {
      return granted(await oidc.refreshTokenGrant(this.#config, refreshToken));
    } catch (e) {
      throw this.#error(
        e,
        "refresh",
        this.#tokenEndpoint,
        (error, message) =>
          error === "invalid_grant" ? new ReauthenticationRequired(message || error) : undefined,
      );
    }
  }

  /**
   * Client credentials grant: a token for the (confidential) client itself, e.g. a service
   * account. A refused secret becomes {@linkcode InvalidClientCredentials}.
   */
  async clientCredentialsGrant(): Promise<GrantedTokens> {
    try {
      return granted(await oidc.clientCredentialsGrant(this.#config));
    } catch (e) {
      throw this.#error(
        e,
        "client credentials grant",
        this.#tokenEndpoint,
        (error, message) =>
          (error === "invalid_client" || error === "unauthorized_client") &&
            /invalid client/i.test(message)
            ? new InvalidClientCredentials(this.clientId, message)
            : undefined,
      );
    }
  }

  /**
   * Starts an authorization code login (with PKCE S256 and `state`, which every provider
   * accepts): the URL to open, and how to finish once the provider redirects to `redirectUri`.
   */
  async authorizationCodeLogin(redirectUri: string): Promise<AuthorizationCodeLogin> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(this.#config, {
      redirect_uri: redirectUri,
      scope: "openid",
      response_type: "code",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    return {
      url: url.href,
      finish: async (callback) => {
        try {
          return granted(
            await oidc.authorizationCodeGrant(this.#config, new URL(callback), {
              pkceCodeVerifier: verifier,
              expectedState: state,
              idTokenExpected: true,
            }),
          );
        } catch (e) {
          if (e instanceof oidc.AuthorizationResponseError) {
            throw new IdentityProviderRejected(
              "login",
              e.error,
              e.error_description ?? undefined,
              0,
            );
          }
          throw this.#error(e, "authorization code grant", this.#tokenEndpoint, () => undefined);
        }
      },
    };
  }

  /**
   * External-to-internal token exchange (RFC 8693, as Keycloak implements it): a token issued by
   * the identity provider that this realm knows as `subjectIssuer` is exchanged for an access
   * token of this realm for `audience`. Only an access token is asked for: no refresh token and
   * no ID token come back. A refusal becomes {@linkcode TokenExchangeRefused}.
   */
  async tokenExchange(
    subjectToken: string,
    options: { subjectIssuer: string; audience: string },
  ): Promise<GrantedTokens> {
    try {
      const tokens = granted(
        await oidc.genericGrantRequest(this.#config, TOKEN_EXCHANGE_GRANT, {
          subject_token: subjectToken,
          subject_token_type: ACCESS_TOKEN_TYPE,
          subject_issuer: options.subjectIssuer,
          requested_token_type: ACCESS_TOKEN_TYPE,
          audience: options.audience,
        }),
      );
      // An access token alone: a refresh token here would be DEDL's, not the one renewed.
      const { refreshToken: _, ...accessOnly } = tokens;
      return accessOnly;
    } catch (e) {
      throw this.#error(
        e,
        "token exchange",
        this.#tokenEndpoint,
        (error, message, status) =>
          new TokenExchangeRefused(this.issuer, options.subjectIssuer, error, message, status),
      );
    }
  }

  /**
   * Starts a device authorization (RFC 8628) with PKCE (S256), which Keycloak requires of
   * clients configured for it and every provider accepts.
   */
  async startDeviceAuthorization(): Promise<PendingDeviceAuthorization> {
    const endpoint = this.#config.serverMetadata().device_authorization_endpoint;
    if (!endpoint) {
      throw new IdentityProviderRejected(
        "device authorization",
        "unsupported",
        "the provider announces no device_authorization_endpoint",
        0,
      );
    }
    const verifier = oidc.randomPKCECodeVerifier();
    try {
      const response = await oidc.initiateDeviceAuthorization(this.#config, {
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
      });
      return new PendingDeviceAuthorization(
        response,
        (signal) => this.#pollDevice(response, verifier, signal),
      );
    } catch (e) {
      throw this.#error(e, "device authorization", endpoint, () => undefined);
    }
  }

  async #pollDevice(
    response: OpenIdClient.DeviceAuthorizationResponse,
    verifier: string,
    signal: AbortSignal | undefined,
  ): Promise<GrantedTokens> {
    // openid-client honours `interval` and `slow_down`; the expiry is enforced here because a
    // caller's signal replaces its own expiry timer.
    const expiry = AbortSignal.timeout(response.expires_in * 1000);
    const pollSignal = signal ? AbortSignal.any([signal, expiry]) : expiry;
    try {
      return granted(
        await oidc.pollDeviceAuthorizationGrant(this.#config, response, {
          code_verifier: verifier,
        }, { signal: pollSignal }),
      );
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (expiry.aborted) throw new DeviceCodeExpired(response.expires_in);
      throw this.#error(e, "device login", this.#tokenEndpoint, (error, message) => {
        if (error === "expired_token") return new DeviceCodeExpired(response.expires_in);
        if (error === "access_denied") return new DeviceAuthorizationDenied(message || undefined);
        return undefined;
      });
    }
  }

  /** Revokes a refresh token (RFC 7009); Keycloak ends the session with it. */
  async revoke(refreshToken: string): Promise<void> {
    const endpoint = this.#config.serverMetadata().revocation_endpoint;
    if (!endpoint) {
      throw new IdentityProviderRejected(
        "logout",
        "unsupported",
        "the provider announces no revocation_endpoint",
        0,
      );
    }
    try {
      await oidc.tokenRevocation(this.#config, refreshToken, { token_type_hint: "refresh_token" });
    } catch (e) {
      throw this.#error(e, "logout", endpoint, () => undefined);
    }
  }

  /**
   * Turns an openid-client failure into a typed error. `specific` maps OAuth error answers of
   * this operation; the rest become generic rejections. Causes are not kept: they may hold
   * response bodies with tokens.
   */
  #error(
    e: unknown,
    operation: string,
    url: string,
    specific: (error: string, message: string, status: number) => AuthError | undefined,
  ): AuthError {
    if (e instanceof oidc.ResponseBodyError) {
      const message = e.error_description ?? "";
      return specific(e.error, message, e.status) ??
        new IdentityProviderRejected(operation, e.error, e.error_description, e.status);
    }
    return transportError(e, operation, url, this.#timeoutMs);
  }
}

/** A device login waiting for the user's approval. */
export class PendingDeviceAuthorization {
  readonly #poll: (signal: AbortSignal | undefined) => Promise<GrantedTokens>;
  /** What to show the user. */
  readonly prompt: DevicePrompt;
  /** Seconds between polls, as the provider asked (5 if it did not say). */
  readonly intervalSeconds: number;

  constructor(
    response: OpenIdClient.DeviceAuthorizationResponse,
    poll: (signal: AbortSignal | undefined) => Promise<GrantedTokens>,
  ) {
    this.#poll = poll;
    this.prompt = {
      verificationUri: response.verification_uri,
      ...(response.verification_uri_complete
        ? { verificationUriComplete: response.verification_uri_complete }
        : {}),
      userCode: response.user_code,
      expiresIn: response.expires_in,
    };
    this.intervalSeconds = response.interval ?? 5;
  }

  /**
   * Polls the token endpoint at the provider's interval (slower after `slow_down`) until the
   * user approves, denies ({@linkcode DeviceAuthorizationDenied}) or the code expires
   * ({@linkcode DeviceCodeExpired}). Aborting `signal` stops with its reason.
   */
  waitForApproval(signal?: AbortSignal): Promise<GrantedTokens> {
    return this.#poll(signal);
  }
}

function granted(response: OpenIdClient.TokenEndpointResponse): GrantedTokens {
  return {
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
    ...(response.expires_in !== undefined ? { expiresInSeconds: response.expires_in } : {}),
  };
}

function discoveryError(e: unknown, issuer: string, url: string, timeoutMs: number): AuthError {
  if (e instanceof oidc.ClientError) {
    if (e.code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") {
      const body = (e.cause as { body?: { issuer?: unknown } } | undefined)?.body;
      return new IssuerDiscoveryFailed(issuer, `the provider calls itself "${body?.issuer}"`);
    }
    const status = httpStatusOf(e);
    if (status !== undefined && status < 500) {
      return new IssuerDiscoveryFailed(issuer, `${url} answered HTTP ${status}`);
    }
  }
  return transportError(e, "discovery", url, timeoutMs);
}

function transportError(
  e: unknown,
  operation: string,
  url: string,
  timeoutMs: number,
): AuthError {
  if (e instanceof oidc.ClientError) {
    if (e.code === "OAUTH_TIMEOUT") {
      return new IdentityProviderUnreachable(url, `no answer within ${timeoutMs} ms`);
    }
    const status = httpStatusOf(e);
    if (status !== undefined && status >= 500) {
      return new IdentityProviderUnreachable(url, `answered HTTP ${status}`);
    }
    return new IdentityProviderRejected(
      operation,
      e.code ?? "unexpected answer",
      status !== undefined ? `${e.message} (HTTP ${status})` : e.message,
      status ?? 0,
    );
  }
  if (e instanceof oidc.WWWAuthenticateChallengeError) {
    e.response.body?.cancel().catch(() => {});
    const parameters = e.cause[0]?.parameters;
    return new IdentityProviderRejected(
      operation,
      parameters?.error ?? "unauthorized",
      parameters?.error_description,
      e.status,
    );
  }
  // openid-client passes fetch's own TypeError through; its argument checks carry an ERR_ code.
  if (e instanceof TypeError && !("code" in e)) {
    return new IdentityProviderUnreachable(url, e.message);
  }
  // Anything else is an answer openid-client could not process; its message names the problem
  // (the error itself is not kept: it may hold the response body, with tokens).
  return new IdentityProviderRejected(
    operation,
    "unexpected answer",
    e instanceof Error ? e.message : String(e),
    0,
  );
}

/** The HTTP status of an unexpected (non-OAuth) answer, if the error carries the response. */
function httpStatusOf(e: InstanceType<typeof OpenIdClient.ClientError>): number | undefined {
  const cause = e.cause;
  return cause instanceof Response ? cause.status : undefined;
}
