/**
 * Verification of access tokens against the issuer's published keys, as DEDL's gateways do it:
 * signature (remote JWKS), algorithm allow-list, `iss`, `aud`, `exp`/`nbf` with leeway.
 * @module
 */
import type * as Jose from "npm:jose@6.2.18";
import {
  type AuthError,
  ClockSkewTooLarge,
  IdentityProviderUnreachable,
  type TokenCheck,
  TokenVerificationFailed,
} from "./errors.ts";

/**
 * The claims of a verified access token: the registered JWT claims and whatever else the
 * identity provider put in (Keycloak: `preferred_username`, `email`, `realm_access`, …).
 */
export interface AccessTokenClaims {
  /** Issuer. */
  readonly iss?: string;
  /** Subject: the account's stable id at the issuer. */
  readonly sub?: string;
  /** Audience. */
  readonly aud?: string | string[];
  /** Expiry, in seconds since the epoch. */
  readonly exp?: number;
  /** Not valid before, in seconds since the epoch. */
  readonly nbf?: number;
  /** Issue time, in seconds since the epoch. */
  readonly iat?: number;
  /** Token id. */
  readonly jti?: string;
  /** Any other claim. */
  readonly [claim: string]: unknown;
}

/** jose, loaded by the first verification: programs that never verify a token skip its load. */
let jose: typeof Jose;

/** Settings of an {@linkcode AccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** Expected `iss`, exactly. */
  issuer: string;
  /** The issuer's JWKS URL (`jwks_uri` from discovery). */
  jwksUri: string;
  /** Required `aud` entry; `null` skips the audience check. */
  audience: string | null;
  /** Accepted signing algorithms. */
  algorithms: readonly string[];
  /** Tolerance for `exp`/`nbf`, in seconds. */
  leewaySeconds: number;
  /** Timeout of a JWKS download, in milliseconds. */
  timeoutMs: number;
  /** HTTP client for the JWKS download (tests count requests through it). */
  fetch?: typeof fetch;
  /** Clock in milliseconds since the epoch (tests inject one); default `Date.now`. */
  now?: () => number;
  /**
   * After a download, no new one for this long (ms) even for an unknown `kid`; default 30 000.
   * A key rotation is picked up by the first token with an unknown `kid` after it.
   */
  jwksCooldownMs?: number;
  /** Re-download the key set when it is older than this (ms); default 600 000. */
  jwksMaxAgeMs?: number;
}

/** Verifies access tokens of one issuer; the key set is downloaded once and cached. */
export class AccessTokenVerifier {
  readonly #options: AccessTokenVerifierOptions;
  readonly #jwksUrl: URL;
  #jwks: ReturnType<typeof Jose.createRemoteJWKSet> | undefined;
  readonly #now: () => number;

  /** The key set is downloaded lazily, on the first verification. */
  constructor(options: AccessTokenVerifierOptions) {
    this.#options = { ...options };
    this.#now = options.now ?? Date.now;
    this.#jwksUrl = new URL(options.jwksUri);
  }

  async #keySet(): Promise<ReturnType<typeof Jose.createRemoteJWKSet>> {
    jose ??= await import("npm:jose@6.2.18");
    const fetchImpl = this.#options.fetch;
    return this.#jwks ??= jose.createRemoteJWKSet(this.#jwksUrl, {
      timeoutDuration: this.#options.timeoutMs,
      cooldownDuration: this.#options.jwksCooldownMs ?? 30_000,
      cacheMaxAge: this.#options.jwksMaxAgeMs ?? 600_000,
      ...(fetchImpl ? { [jose.customFetch]: (url, init) => fetchImpl(url, init) } : {}),
    });
  }

  /**
   * Verifies `token` and returns its claims. Throws {@linkcode TokenVerificationFailed} naming
   * the failing check, {@linkcode IdentityProviderUnreachable} when the key set cannot be
   * downloaded, or — for a token the provider has just issued (`fresh`) that fails the time
   * checks — {@linkcode ClockSkewTooLarge} with the measured skew.
   */
  async verify(token: string, options: { fresh?: boolean } = {}): Promise<AccessTokenClaims> {
    const o = this.#options;
    const now = this.#now();
    const keySet = await this.#keySet();
    let payload: Jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keySet, {
        issuer: o.issuer,
        ...(o.audience === null ? {} : { audience: o.audience }),
        algorithms: [...o.algorithms],
        clockTolerance: o.leewaySeconds,
        currentDate: new Date(now),
        requiredClaims: ["exp", "sub"],
      }));
    } catch (e) {
      throw this.#translate(e, token, now, options.fresh ?? false);
    }
    // Keycloak marks its token kinds; an ID token must not pass as an access token.
    if (payload.typ !== undefined && payload.typ !== "Bearer") {
      throw new TokenVerificationFailed("claims", `"typ" is "${payload.typ}", not "Bearer"`);
    }
    return payload;
  }

  #translate(e: unknown, token: string, now: number, fresh: boolean): AuthError {
    if (!(e instanceof jose.errors.JOSEError)) {
      // Not jose's: the key set download failed in the HTTP client (network, abort).
      return new IdentityProviderUnreachable(
        this.#options.jwksUri,
        e instanceof Error ? e.message : String(e),
      );
    }
    const check = tokenCheckOf(e);
    if (check === null) {
      return new IdentityProviderUnreachable(
        this.#options.jwksUri,
        `no answer within ${this.#options.timeoutMs} ms`,
      );
    }
    if (fresh && (check === "expiry" || check === "not-before")) {
      // The signature was verified before the time checks ran, so `iat` is the provider's.
      const iat = jose.decodeJwt(token).iat;
      if (typeof iat === "number") {
        const skew = now / 1000 - iat;
        if (Math.abs(skew) > this.#options.leewaySeconds) {
          return new ClockSkewTooLarge(skew, this.#options.leewaySeconds);
        }
      }
    }
    return new TokenVerificationFailed(check, e.message);
  }
}

/** The check a jose error stands for; `null` for a JWKS download timeout. */
function tokenCheckOf(e: InstanceType<typeof Jose.errors.JOSEError>): TokenCheck | null {
  const E = jose.errors;
  if (e instanceof E.JWKSTimeout) return null;
  if (e instanceof E.JWTExpired) return "expiry";
  if (e instanceof E.JWTClaimValidationFailed) {
    switch (e.claim) {
      case "iss":
        return "issuer";
      case "aud":
        return "audience";
      case "nbf":
        return "not-before";
      case "exp":
        return "expiry";
      default:
        return "claims";
    }
  }
  if (e instanceof E.JOSEAlgNotAllowed || e instanceof E.JOSENotSupported) return "algorithm";
  if (e instanceof E.JWKSNoMatchingKey || e instanceof E.JWKSMultipleMatchingKeys) return "key";
  if (e instanceof E.JWSSignatureVerificationFailed) return "signature";
  if (e instanceof E.JWKSInvalid) return "jwks";
  if (e instanceof E.JWSInvalid || e instanceof E.JWTInvalid) return "format";
  // Other jose errors come from the key set download (e.g. a non-200 answer).
  return "jwks";
}
