/**
 * Test support: the replica Keycloak's admin REST API — throw-away users (so that revoking
 * sessions never disturbs other tests using alice and bob) and ending a user's sessions.
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

  /** Logs in as the replica's bootstrap admin (master realm, `admin-cli`). */
  static async connect(ep: ReplicaEndpoints): Promise<KeycloakAdmin> {
    const match = ep.issuer.match(/^(.*)\/realms\/([^/]+)$/);
    if (!match) throw new Error(`unexpected issuer ${ep.issuer}`);
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
   * false` creates a disabled account.
   */
  async createUser(
    options: { complete?: boolean; enabled?: boolean } = {},
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
      credentials: [{ type: "password", value: password, temporary: false }],
    });
    await res.body?.cancel();
    const id = res.headers.get("location")!.split("/").pop()!;
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
