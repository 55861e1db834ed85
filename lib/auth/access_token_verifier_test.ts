import assert from "node:assert/strict";
import * as jose from "npm:jose@6.2.18";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { AccessTokenVerifier, type AccessTokenVerifierOptions } from "./access_token_verifier.ts";
import {
  ClockSkewTooLarge,
  IdentityProviderUnreachable,
  type TokenCheck,
  TokenVerificationFailed,
} from "./errors.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";
import { recordSecret } from "./testing/secret_log.ts";

const ep = await readEndpoints();
const alice = ep.users[0];

/** A key set served over real HTTP on loopback; `keys` can be swapped to simulate rotation. */
function jwksServer() {
  const state = { keys: [] as jose.JWK[], downloads: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    state.downloads++;
    return Response.json({ keys: state.keys });
  });
  return {
    state,
    url: `http://127.0.0.1:${server.addr.port}/certs`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await jose.generateKeyPair("RS256");
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { privateKey, jwk };
}

const TEST_ISSUER = "http://127.0.0.1:1/auth/realms/test";
// RSA key generation is slow; every test shares these.
const k1 = await signingKey("k1");
const k2 = await signingKey("k2");
const foreign = await signingKey("k1"); // the same kid as k1, another key: a forgery

function token(
  claims: jose.JWTPayload = {},
  header: jose.JWTHeaderParameters = { alg: "RS256", kid: "k1" },
) {
  return new jose.SignJWT({ sub: "user-1", typ: "Bearer", ...claims })
    .setProtectedHeader(header)
    .setIssuer(TEST_ISSUER)
    .setAudience("account")
    .setIssuedAt()
    .setExpirationTime("5m");
}

function verifier(jwksUri: string, extra: Partial<AccessTokenVerifierOptions> = {}) {
  return new AccessTokenVerifier({
    issuer: TEST_ISSUER,
    jwksUri,
    audience: "account",
    algorithms: ["RS256"],
    leewaySeconds: 10,
    timeoutMs: 5_000,
    ...extra,
  });
}

async function assertCheck(promise: Promise<unknown>, check: TokenCheck) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof TokenVerificationFailed, `expected TokenVerificationFailed, got ${e}`);
    assert.equal(e.check, check, e.message);
    assert.match(e.message, new RegExp(`${check} check`));
    return true;
  });
}

Deno.test("access token verifier - a token of the trusted key passes and gives its claims", async () => {
  await using jwks = await jwksServer();
  jwks.state.keys = [k1.jwk];
  const claims = await verifier(jwks.url).verify(
    await token({ preferred_username: "alice" }).sign(k1.privateKey),
  );
  assert.equal(claims.preferred_username, "alice");
  assert.equal(claims.iss, TEST_ISSUER);
});

Deno.test("access token verifier - each failing check is named", async () => {
  await using jwks = await jwksServer();
  jwks.state.keys = [k1.jwk];
  const v = verifier(jwks.url);
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, Promise<string>, TokenCheck][] = [
    ["signed by a foreign key", token().sign(foreign.privateKey), "signature"],
    [
      "kid not in the key set",
      token({}, { alg: "RS256", kid: "other" }).sign(k1.privateKey),
      "key",
    ],
    [
      "another issuer",
      token().setIssuer("https://evil.example/realms/dedl").sign(k1.privateKey),
      "issuer",
    ],
    ["another audience", token().setAudience("someone-else").sign(k1.privateKey), "audience"],
    [
      "expired beyond the leeway",
      token().setExpirationTime(now - 11).sign(k1.privateKey),
      "expiry",
    ],
    [
      "not valid before a later time",
      token().setNotBefore(now + 60).sign(k1.privateKey),
      "not-before",
    ],
    [
      "HS256 instead of RS256",
      token({}, { alg: "HS256" }).sign(new Uint8Array(32)),
      "algorithm",
    ],
    ["an ID token", token({ typ: "ID" }).sign(k1.privateKey), "claims"],
    ["without sub", token({ sub: undefined }).sign(k1.privateKey), "claims"],
    ["not a JWT", Promise.resolve("not-a-jwt"), "format"],
  ];
  for (const [what, signed, check] of cases) {
    await assertCheck(v.verify(await signed), check).catch((e) => {
      throw new Error(`${what}: ${e.message}`);
    });
  }
});

Deno.test("access token verifier - a token expired within the leeway still passes", async () => {
  await using jwks = await jwksServer();
  jwks.state.keys = [k1.jwk];
  const now = Math.floor(Date.now() / 1000);
  const expired = await token().setIssuedAt(now - 60).setExpirationTime(now - 5).sign(
    k1.privateKey,
  );
  await verifier(jwks.url).verify(expired);
  await assertCheck(verifier(jwks.url, { leewaySeconds: 0 }).verify(expired), "expiry");
});

Deno.test("access token verifier - audience null skips the audience check", async () => {
  await using jwks = await jwksServer();
  jwks.state.keys = [k1.jwk];
  const other = await token().setAudience("someone-else").sign(k1.privateKey);
  assert.equal((await verifier(jwks.url, { audience: null }).verify(other)).aud, "someone-else");
});

Deno.test("access token verifier - the key set is downloaded once and re-read after a key rotation", async () => {
  await using jwks = await jwksServer();
  jwks.state.keys = [k1.jwk];
  const v = verifier(jwks.url, { jwksCooldownMs: 0 });
  for (let i = 0; i < 3; i++) await v.verify(await token().sign(k1.privateKey));
  assert.equal(jwks.state.downloads, 1);
  // The provider rotates: k2 replaces k1.
  jwks.state.keys = [k2.jwk];
  const rotated = await token({}, { alg: "RS256", kid: "k2" }).sign(k2.privateKey);
  await v.verify(rotated);
  assert.equal(jwks.state.downloads, 2);
  await v.verify(rotated);
  assert.equal(jwks.state.downloads, 2);
  await assertCheck(v.verify(await token().sign(k1.privateKey)), "key");
});

Deno.test("access token verifier - an unreachable key set names its URL", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}/certs`;
  listener.close(); // nothing listens there any more
  await assert.rejects(verifier(url).verify(await token().sign(k1.privateKey)), (e) => {
    assert.ok(e instanceof IdentityProviderUnreachable);
    assert.equal(e.url, url);
    return true;
  });
});

Deno.test("access token verifier - a key set server that never answers times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn); // accept, never answer
  })();
  try {
    const url = `http://127.0.0.1:${listener.addr.port}/certs`;
    await assert.rejects(
      verifier(url, { timeoutMs: 300 }).verify(await token().sign(k1.privateKey)),
      (e) => {
        assert.ok(e instanceof IdentityProviderUnreachable);
        assert.match(e.reason, /no answer within 300 ms/);
        return true;
      },
    );
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});

// --- against the replica's Keycloak ---

/** An access token straight from Keycloak's token endpoint. */
async function passwordToken(
  issuer = ep.issuer,
  clientId = ep.client_id,
  username = alice.username,
  password = alice.password,
): Promise<string> {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: clientId, username, password }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  recordSecret(body.access_token);
  recordSecret(body.refresh_token);
  assert.equal(res.status, 200);
  return body.access_token;
}

function keycloakVerifier(extra: Partial<AccessTokenVerifierOptions> = {}) {
  return new AccessTokenVerifier({
    issuer: ep.issuer,
    jwksUri: ep.jwks_url,
    audience: "account",
    algorithms: ["RS256"],
    leewaySeconds: 10,
    timeoutMs: 5_000,
    ...extra,
  });
}

Deno.test("access token verifier - a Keycloak token of the realm passes", async () => {
  const claims = await keycloakVerifier().verify(await passwordToken());
  assert.equal(claims.preferred_username, alice.username);
  assert.equal(claims.azp, ep.client_id);
});

Deno.test("access token verifier - Keycloak tokens of another issuer, realm or key are rejected", async () => {
  const v = keycloakVerifier();
  // Same realm and key, but issued under another host name: another issuer.
  await assertCheck(
    v.verify(await passwordToken(ep.issuer.replace("127.0.0.1", "localhost"))),
    "issuer",
  );
  // The master realm signs with its own key, unknown to the dedl key set.
  const admin = await passwordToken(
    ep.issuer.replace(/dedl$/, "master"),
    "admin-cli",
    ep.admin.username,
    ep.admin.password,
  );
  await assertCheck(v.verify(admin), "key");
  // A forgery carrying the realm key's kid.
  const { kid } = jose.decodeProtectedHeader(await passwordToken());
  const { privateKey } = await jose.generateKeyPair("RS256");
  const forged = await new jose.SignJWT({
    sub: "x",
    typ: "Bearer",
    preferred_username: alice.username,
  })
    .setProtectedHeader({ alg: "RS256", kid: kid! })
    .setIssuer(ep.issuer)
    .setAudience("account")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
  await assertCheck(v.verify(forged), "signature");
});

Deno.test("access token verifier - a Keycloak token checked past its expiry fails the expiry check, or names the skew when fresh", async () => {
  const t = await passwordToken();
  const later = () => Date.now() + 120_000; // past the 30 s lifespan plus leeway
  await assertCheck(keycloakVerifier({ now: later }).verify(t), "expiry");
  await assert.rejects(keycloakVerifier({ now: later }).verify(t, { fresh: true }), (e) => {
    assert.ok(e instanceof ClockSkewTooLarge);
    assert.ok(e.skewSeconds > 110 && e.skewSeconds < 130, String(e.skewSeconds));
    assert.match(e.message, /ahead of the identity provider/);
    return true;
  });
});

Deno.test("access token verifier - the realm key set is fetched through the given fetch", async () => {
  const http = new HttpRecorder();
  const v = keycloakVerifier({ fetch: http.fetch });
  await v.verify(await passwordToken());
  await v.verify(await passwordToken());
  assert.equal(http.calls("/protocol/openid-connect/certs"), 1);
});
