import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import {
  AccountDisabled,
  AccountNotSetUp,
  IdentityProviderRejected,
  IdentityProviderUnreachable,
  InsecureIssuer,
  InvalidCredentials,
  IssuerDiscoveryFailed,
  ReauthenticationRequired,
} from "./errors.ts";
import { IdentityProvider } from "./identity_provider.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";
import { KeycloakAdmin } from "./testing/keycloak_admin.ts";

const ep = await readEndpoints();
const alice = ep.users[0];

function discover(
  issuer = ep.issuer,
  extra: Partial<Parameters<typeof IdentityProvider.discover>[0]> = {},
) {
  return IdentityProvider.discover({ issuer, clientId: ep.client_id, timeoutMs: 5_000, ...extra });
}

Deno.test("identity provider - discovery reads the realm's endpoints", async () => {
  const idp = await discover();
  assert.equal(idp.issuer, ep.issuer);
  assert.equal(idp.jwksUri, ep.jwks_url);
  assert.equal(idp.clientId, ep.client_id);
});

Deno.test("identity provider - an issuer the provider does not call itself is refused", async () => {
  await assert.rejects(discover(`${ep.issuer}/`), (e) => {
    assert.ok(e instanceof IssuerDiscoveryFailed);
    assert.match(e.message, new RegExp(`calls itself "${ep.issuer}"`));
    return true;
  });
});

Deno.test("identity provider - an unknown realm is a discovery failure with the HTTP status", async () => {
  await assert.rejects(discover(ep.issuer.replace(/dedl$/, "no-such-realm")), (e) => {
    assert.ok(e instanceof IssuerDiscoveryFailed);
    assert.match(e.reason, /answered HTTP 404/);
    return true;
  });
});

Deno.test("identity provider - nothing listening is unreachable, with the URL", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const issuer = `http://127.0.0.1:${listener.addr.port}/auth/realms/dedl`;
  listener.close();
  await assert.rejects(discover(issuer), (e) => {
    assert.ok(e instanceof IdentityProviderUnreachable);
    assert.equal(e.url, `${issuer}/.well-known/openid-configuration`);
    assert.match(e.message, new RegExp(`unreachable at ${issuer}`));
    return true;
  });
});

Deno.test("identity provider - a provider that never answers times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  try {
    const issuer = `http://127.0.0.1:${listener.addr.port}/auth/realms/dedl`;
    await assert.rejects(discover(issuer, { timeoutMs: 300 }), (e) => {
      assert.ok(e instanceof IdentityProviderUnreachable);
      assert.equal(e.reason, "no answer within 300 ms");
      return true;
    });
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

Deno.test("identity provider - plain HTTP is refused off loopback", async () => {
  const http = new HttpRecorder();
  await assert.rejects(
    discover("http://identity.example.org/auth/realms/dedl", { fetch: http.fetch }),
    InsecureIssuer,
  );
  assert.equal(http.requests.length, 0, "nothing was sent");
});

Deno.test("identity provider - wrong password carries the server's message", async () => {
  const idp = await discover();
  await assert.rejects(idp.passwordGrant(alice.username, "not-the-password"), (e) => {
    assert.ok(e instanceof InvalidCredentials);
    assert.equal(e.serverMessage, "Invalid user credentials");
    assert.equal(e.username, alice.username);
    assert.ok(!e.message.includes("not-the-password"));
    return true;
  });
});

Deno.test("identity provider - an account without its profile is 'not set up', with where to fix it", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser({ complete: false });
  const idp = await discover();
  await assert.rejects(idp.passwordGrant(user.username, user.password), (e) => {
    assert.ok(e instanceof AccountNotSetUp);
    assert.equal(e.serverMessage, "Account is not fully set up");
    assert.equal(e.accountUrl, `${ep.issuer}/account`);
    return true;
  });
});

Deno.test("identity provider - a disabled account is AccountDisabled", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser({ enabled: false });
  const idp = await discover();
  await assert.rejects(idp.passwordGrant(user.username, user.password), (e) => {
    assert.ok(e instanceof AccountDisabled, String(e));
    assert.match(e.serverMessage, /disabled/i);
    return true;
  });
});

Deno.test("identity provider - an unknown client is a rejection naming the OAuth error", async () => {
  const idp = await IdentityProvider.discover({
    issuer: ep.issuer,
    clientId: "no-such-client",
    timeoutMs: 5_000,
  });
  await assert.rejects(idp.passwordGrant(alice.username, alice.password), (e) => {
    assert.ok(e instanceof IdentityProviderRejected);
    assert.equal(e.error, "invalid_client");
    return true;
  });
});

Deno.test("identity provider - refreshing with another client id (the seed's bug) ends the session", async () => {
  const login = await discover();
  const tokens = await login.passwordGrant(alice.username, alice.password);
  const other = await IdentityProvider.discover({
    issuer: ep.issuer,
    clientId: "dedl-dask-gateway",
    timeoutMs: 5_000,
  });
  await assert.rejects(other.refreshGrant(tokens.refreshToken!), (e) => {
    assert.ok(e instanceof ReauthenticationRequired);
    assert.match(e.reason, /client/i);
    return true;
  });
  // The same client id refreshes fine.
  const refreshed = await login.refreshGrant(tokens.refreshToken!);
  assert.notEqual(refreshed.accessToken, tokens.accessToken);
  await login.revoke(refreshed.refreshToken!);
});

Deno.test("identity provider - every call goes through the given fetch", async () => {
  const http = new HttpRecorder();
  const idp = await discover(ep.issuer, { fetch: http.fetch });
  const tokens = await idp.passwordGrant(alice.username, alice.password);
  await idp.revoke(tokens.refreshToken!);
  assert.deepEqual(
    http.requests.map((r) => new URL(r.url).pathname.split("/").pop()),
    ["openid-configuration", "token", "revoke"],
  );
  assert.deepEqual(http.requests.map((r) => r.clientId), [undefined, ep.client_id, ep.client_id]);
});
