/**
 * A deliberately naive {@link TokenSource} for gateway tests: one password grant against the
 * replica's Keycloak, then the same token until the gateway forces a refresh. It never looks at
 * the token's expiry, so an expired token reaches the gateway — the case the gateway client's
 * 401 handling must cover for any token source.
 * @module
 */
import type { TokenSource } from "../../auth/token_source.ts";
import { readEndpoints } from "../../../tests/replica/endpoints.ts";

/** Counts what the gateway client asked of it. */
export class PasswordTokens implements TokenSource {
  /** Calls with `forceRefresh: true`. */
  forcedRefreshes = 0;
  /** Password grants made. */
  grants = 0;
  #token: string | undefined;

  private constructor(
    readonly identity: string,
    private readonly grant: () => Promise<string>,
  ) {}

  /** Tokens for the replica user at `index` of the endpoints file (0 = alice, 1 = bob). */
  static async forReplicaUser(index = 0): Promise<PasswordTokens> {
    const ep = await readEndpoints();
    const user = ep.users[index];
    return new PasswordTokens(`${ep.issuer}#${user.username}`, async () => {
      const res = await fetch(ep.token_url, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "password",
          client_id: ep.client_id,
          username: user.username,
          password: user.password,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`password grant failed: ${JSON.stringify(body)}`);
      return body.access_token as string;
    });
  }

  async accessToken(options?: { forceRefresh?: boolean }): Promise<string> {
    if (options?.forceRefresh) this.forcedRefreshes++;
    if (this.#token === undefined || options?.forceRefresh) {
      this.#token = await this.grant();
      this.grants++;
    }
    return this.#token;
  }
}
