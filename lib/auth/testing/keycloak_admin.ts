/**
 * Test support: the replica Keycloak's admin REST API — throw-away users (so that revoking
 * sessions never disturbs other tests using alice and bob), in the `dedl` realm or the `desp`
 * realm that plays DESP, and ending a user's sessions.
 * @module
 */
import type { ReplicaEndpoints } from "../../../tests/replica/endpoints.ts";
import { recordSecret } from "./secret_log.ts";

/** A user created for one test; deleted on dispose. */
export interface TemporaryUser extends AsyncDisposable {
  id: string;
  username: string;
  password: string;
}

/** Admin REST client of the replica's realm. */
export class KeycloakAdmin {
  readonly #base: string;
  readonly #realm: string;
  readonly #token: string;

  private constructor(base: string, realm: string, token: string) {
    this.#base = base;
    this.#realm = realm;
    this.#token = token;
  }

  /**
   * Logs in as the replica's bootstrap admin (master realm, `admin-cli`), for the realm of
   * `issuer` (default: the `dedl` realm; `ep.desp.issuer` for DESP's).
   */
  static async connect(ep: ReplicaEndpoints, issuer = ep.issuer): Promise<KeycloakAdmin> {
    const match = issuer.match(/^(.*)\/realms\/([^/]+)$/);
    if (!match) throw new Error(`unexpected issuer ${issuer}`);
    const [, base, realm] = match;
    const res = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "admin-cli",
        username: ep.admin.username,
        password: ep.admin.password,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`admin login failed: HTTP ${res.status}`);
    const token = (await res.json()).access_token;
    recordSecret(token);
    return new KeycloakAdmin(base, realm, token);
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await fetch(`${this.#base}/admin/realms/${this.#realm}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.#token}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      throw new Error(`admin ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    }
    return res;
  }

  /**
   * Creates a user with a random name and password. `complete: false` leaves out email and
   * names, which Keycloak's user profile requires ("Account is not fully set up"); `enabled:
   * false` creates a disabled account; `realmRoles` are granted; `totpKey` (base32) adds a TOTP
   * second factor with that key; `requiredActions` are due at the next login.
   */
  async createUser(
    options: {
      complete?: boolean;
      enabled?: boolean;
      realmRoles?: string[];
      totpKey?: string;
      requiredActions?: string[];
    } = {},
  ): Promise<TemporaryUser> {
    const username = `auth-test-${crypto.randomUUID().slice(0, 8)}`;
    const password = crypto.randomUUID();
    recordSecret(password);
    const profile = options.complete === false ? {} : {
      email: `${username}@example.org`,
      emailVerified: true,
      firstName: "Auth",
      lastName: "Test",
    };
    const res = await this.#call("POST", "/users", {
      username,
      enabled: options.enabled ?? true,
      ...profile,
      ...(options.requiredActions ? { requiredActions: options.requiredActions } : {}),
      credentials: [
        { type: "password", value: password, temporary: false },
        ...(options.totpKey ? [totpCredential(options.totpKey)] : []),
      ],
    });
    await res.body?.cancel();
    const id = res.headers.get("location")!.split("/").pop()!;
    if (options.realmRoles?.length) {
      const roles = await Promise.all(
        options.realmRoles.map(async (name) =>
          await (await this.#call("GET", `/roles/${name}`)).json()
        ),
      );
      await (await this.#call("POST", `/users/${id}/role-mappings/realm`, roles)).body?.cancel();
    }
    return {
      id,
      username,
      password,
      [Symbol.asyncDispose]: async () => {
        await (await this.#call("DELETE", `/users/${id}`)).body?.cancel();
      },
    };
  }

  /** Ends every session of the user (`POST /users/{id}/logout`): their refresh tokens die. */
  async logoutUser(id: string): Promise<void> {
    await (await this.#call("POST", `/users/${id}/logout`)).body?.cancel();
  }
}

/** A TOTP credential as Keycloak stores it (the key given in base32, 6 digits, 30 s steps). */
function totpCredential(base32Key: string) {
  recordSecret(base32Key);
  return {
    type: "otp",
    userLabel: "test authenticator",
    secretData: JSON.stringify({ value: base32Key }),
    credentialData: JSON.stringify({
      subType: "totp",
      digits: 6,
      counter: 0,
      period: 30,
      algorithm: "HmacSHA1",
      secretEncoding: "BASE32",
    }),
  };
}
