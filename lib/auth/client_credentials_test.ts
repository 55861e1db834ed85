/**
 * Service-account login (client credentials grant) against the replica's real Keycloak and
 * gateways: the replica's `dedl-pipeline` client with its generated secret.
 */
import assert from "node:assert/strict";
import * as jose from "npm:jose@6.2.18";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { Gateway } from "../gateway/mod.ts";
import { InvalidClientCredentials } from "./errors.ts";
import { type ClientCredentialsLoginOptions, OidcAuth } from "./oidc_auth.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";

const ep = await readEndpoints();
const account = ep.service_accounts[0];
const jwks = jose.createRemoteJWKSet(new URL(ep.jwks_url));
const GRANT = "client_credentials";

function login(extra: Partial<ClientCredentialsLoginOptions> = {}): Promise<OidcAuth> {
  return OidcAuth.clientCredentials({
    issuer: ep.issuer,
    clientId: account.client_id,
    clientSecret: account.client_secret,
    ...extra,
  });
}

Deno.test("service account - client credentials give a verified token of the service account", async () => {
  const http = new HttpRecorder();
  await using auth = await login({ fetch: http.fetch });
  const token = await auth.accessToken();
  const { payload } = await jose.jwtVerify(token, jwks, {
    issuer: ep.issuer,
    audience: "account",
    algorithms: ["RS256"],
  });
  assert.equal(payload.azp, account.client_id);
  assert.equal(auth.username, `service-account-${account.client_id}`);
  assert.equal(http.grants(GRANT), 1);
  assert.equal(http.requests.find((r) => r.grantType === GRANT)!.clientId, account.client_id);
});

Deno.test("service account - renewed by a new grant before expiry, one for concurrent callers", async () => {
  let offset = 0;
  const http = new HttpRecorder();
  await using auth = await login({ fetch: http.fetch, now: () => Date.now() + offset });
  const first = await auth.accessToken();
  offset = 13_000; // a 30 s token is renewed after 15 s
  assert.equal(await auth.accessToken(), first);
  assert.equal(http.grants(GRANT), 1);
  offset = 16_000;
  const renewed = await Promise.all(Array.from({ length: 10 }, () => auth.accessToken()));
  assert.equal(new Set(renewed).size, 1);
  assert.notEqual(renewed[0], first);
  assert.equal(http.grants(GRANT), 2);
  assert.equal(http.grants("refresh_token"), 0);
});

Deno.test("service account - a wrong secret or an unknown client is InvalidClientCredentials", async () => {
  for (
    const extra of [{ clientSecret: "not-the-secret" }, {
      clientId: "no-such-client",
      clientSecret: "x",
    }]
  ) {
    await assert.rejects(login(extra), (e) => {
      assert.ok(e instanceof InvalidClientCredentials);
      assert.equal(e.clientId, extra.clientId ?? account.client_id);
      assert.ok(!e.message.includes(account.client_secret));
      return true;
    });
  }
});

Deno.test("service account - the gateways accept its token", async () => {
  await using auth = await login();
  const site = ep.sites.lumi;
  const gateway = new Gateway({ address: site.address, proxyAddress: site.proxy_address, auth });
  assert.ok(Array.isArray(await gateway.listClusters()));
});

Deno.test("service account - inspecting or serialising it shows no secret or token", async () => {
  await using auth = await login();
  const token = await auth.accessToken();
  for (const text of [Deno.inspect(auth, { depth: 10, showHidden: true }), JSON.stringify(auth)]) {
    assert.ok(!text.includes(account.client_secret));
    assert.ok(!text.includes(token));
  }
});
