/**
 * DESP login against the replica's real Keycloak: its `desp` realm plays DESP (login pages, TOTP
 * second factor, refresh tokens) and its `dedl` realm exchanges DESP tokens for DEDL ones, which
 * the replica's real gateways accept. Accounts with a second factor are created per test, so that
 * no one-time code is ever used twice.
 */
import assert from "node:assert/strict";
import * as jose from "npm:jose@6.2.18";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { Gateway } from "../gateway/mod.ts";
import {
  AccountDisabled,
  AccountNotSetUp,
  IdentityProviderRejected,
  InvalidCredentials,
  InvalidOneTimePassword,
  LoginPageChanged,
  MissingRole,
  OneTimePasswordUnavailable,
  ReauthenticationRequired,
  TokenExchangeRefused,
} from "./errors.ts";
import { type DespLoginOptions, OidcAuth } from "./oidc_auth.ts";
import { FileTokenCache } from "./token_cache.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";
import { KeycloakAdmin, type TemporaryUser } from "./testing/keycloak_admin.ts";
import { recordSecret } from "./testing/secret_log.ts";
import { randomBase32Key, totpCode } from "./testing/totp.ts";

const ep = await readEndpoints();
const carol = ep.desp.users.find((u) => !u.totp_secret)!;
const jwks = jose.createRemoteJWKSet(new URL(ep.jwks_url));
const EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const REFRESH = "refresh_token";
/** DESP's role that the replica's DEDL turns into `stack-dask` (a Stack Dask grant). */
const STACK_DASK_AT_DESP = "dedl-stack-dask";

/** Checks a token independently of the code under test, as the gateways do. */
async function verifiedClaims(token: string): Promise<jose.JWTPayload> {
  const { payload } = await jose.jwtVerify(token, jwks, {
    issuer: ep.issuer,
    audience: "account",
    algorithms: ["RS256"],
  });
  return payload;
}

function login(
  user: { username: string; password: string },
  extra: Partial<DespLoginOptions> = {},
): Promise<OidcAuth> {
  return OidcAuth.desp({
    issuer: ep.issuer,
    despIssuer: ep.desp.issuer,
    username: user.username,
    password: user.password,
    ...extra,
  });
}

/** A throw-away DESP account (Stack Dask granted unless `roles` says otherwise). */
async function despUser(
  options: { totpKey?: string; realmRoles?: string[] } = {},
): Promise<TemporaryUser> {
  const admin = await KeycloakAdmin.connect(ep, ep.desp.issuer);
  return await admin.createUser({ realmRoles: [STACK_DASK_AT_DESP], ...options });
}

// Logged in first and left alone until the last test, which renews it after its token expired:
// the 30 s lifetime passes while the other tests run.
const earlyHttp = new HttpRecorder();
const early = await login(carol, { fetch: earlyHttp.fetch });
const earlyToken = await early.accessToken();

Deno.test("desp login - a DESP account gets a verified DEDL token through the exchange", async () => {
  const http = new HttpRecorder();
  await using auth = await login(carol, { fetch: http.fetch });
  const token = await auth.accessToken();
  const claims = await verifiedClaims(token);
  assert.equal(claims.preferred_username, carol.username);
  assert.equal(claims.azp, "hda-public");
  assert.ok((claims.realm_access as { roles: string[] }).roles.includes("stack-dask"));
  assert.equal(auth.username, carol.username);
  assert.equal(auth.issuer, ep.issuer);
  assert.equal(auth.identity, `${ep.issuer}#${claims.sub}`);
  // The steps: DESP's login page and form, the code at DESP, the exchange at DEDL.
  const tokenCalls = http.requests.filter((r) => r.grantType);
  assert.deepEqual(tokenCalls.map((r) => [r.grantType, new URL(r.url).pathname]), [
    ["authorization_code", new URL(`${ep.desp.issuer}/protocol/openid-connect/token`).pathname],
    [EXCHANGE, new URL(ep.token_url).pathname],
  ]);
  assert.equal(http.calls("/login-actions/authenticate"), 1);
});

Deno.test("desp login - a DESP user exists only at DESP: DEDL's password grant refuses them", async () => {
  await assert.rejects(
    OidcAuth.password({ issuer: ep.issuer, username: carol.username, password: carol.password }),
    InvalidCredentials,
  );
});

Deno.test("desp login - with a second factor: the one-time code is asked once and sent", async () => {
  const totpKey = randomBase32Key();
  await using user = await despUser({ totpKey });
  const questions: string[] = [];
  await using auth = await login(user, {
    otp: async (question) => {
      questions.push(question);
      return await totpCode(totpKey);
    },
  });
  assert.equal(auth.username, user.username);
  await verifiedClaims(await auth.accessToken());
  assert.deepEqual(questions, [`One-time code for ${user.username} at ${ep.desp.issuer}: `]);
});

Deno.test("desp login - the replica's TOTP user is described with a base32 key", () => {
  const withCode = ep.desp.users.filter((u) => u.totp_secret);
  assert.equal(withCode.length, 1);
  assert.match(withCode[0].totp_secret!, /^[A-Z2-7]{32}$/);
});

Deno.test("desp login - without a second factor the code function is never called", async () => {
  await using auth = await login(carol, {
    otp: () => {
      throw new Error("asked for a one-time code");
    },
  });
  assert.equal(auth.username, carol.username);
});

Deno.test("desp login - wrong password is InvalidCredentials with DESP's words; nothing reaches DEDL", async () => {
  const http = new HttpRecorder();
  await assert.rejects(
    login({ ...carol, password: "wrong-password" }, { fetch: http.fetch }),
    (e) => {
      assert.ok(e instanceof InvalidCredentials);
      assert.equal(e.username, carol.username);
      assert.equal(e.serverMessage, "Invalid username or password.");
      return true;
    },
  );
  assert.equal(http.grants(EXCHANGE), 0);
  assert.equal(http.grants("authorization_code"), 0);
});

Deno.test("desp login - a disabled DESP account is AccountDisabled", async () => {
  await using user = await (await KeycloakAdmin.connect(ep, ep.desp.issuer)).createUser({
    enabled: false,
  });
  await assert.rejects(login(user), AccountDisabled);
});

Deno.test("desp login - wrong one-time code is InvalidOneTimePassword", async () => {
  const totpKey = randomBase32Key();
  await using user = await despUser({ totpKey });
  const right = await totpCode(totpKey);
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
  await assert.rejects(login(user, { otp: wrong }), (e) => {
    assert.ok(e instanceof InvalidOneTimePassword);
    assert.equal(e.serverMessage, "Invalid authenticator code.");
    return true;
  });
});

Deno.test({
  name: "desp login - a code is needed, none given, no terminal: OneTimePasswordUnavailable",
  ignore: Deno.stdin.isTerminal(),
  async fn() {
    await using user = await despUser({ totpKey: randomBase32Key() });
    await assert.rejects(login(user), OneTimePasswordUnavailable);
  },
});

Deno.test("desp login - an account without a Stack Dask role is MissingRole, unless not required", async () => {
  await using user = await despUser({ realmRoles: [] });
  await assert.rejects(login(user), (e) => {
    assert.ok(e instanceof MissingRole);
    assert.equal(e.username, user.username);
    assert.ok(e.needed.includes("stack-dask"));
    assert.ok(!e.roles.includes("stack-dask"));
    assert.match(e.message, /request Stack Dask access/);
    return true;
  });
  await using auth = await login(user, { requiredRoles: null });
  assert.equal(auth.username, user.username);
});

Deno.test("desp login - an account with steps due at DESP is AccountNotSetUp, naming them", async () => {
  for (
    const [action, title] of [["UPDATE_PASSWORD", "Update password"], [
      "CONFIGURE_TOTP",
      "Mobile Authenticator Setup",
    ]]
  ) {
    await using user = await (await KeycloakAdmin.connect(ep, ep.desp.issuer)).createUser({
      requiredActions: [action],
    });
    await assert.rejects(login(user, { otp: "000000" }), (e) => {
      assert.ok(e instanceof AccountNotSetUp, String(e));
      assert.equal(e.serverMessage, title);
      assert.equal(e.accountUrl, `${ep.desp.issuer}/account`);
      return true;
    });
  }
});

Deno.test("desp login - DEDL refusing the exchange is TokenExchangeRefused", async () => {
  // An alias DEDL does not know, and a client DEDL does not allow to exchange DESP tokens.
  await assert.rejects(login(carol, { subjectIssuer: "not-desp" }), (e) => {
    assert.ok(e instanceof TokenExchangeRefused);
    assert.equal(e.subjectIssuer, "not-desp");
    assert.equal(e.status, 400);
    return true;
  });
  await assert.rejects(login(carol, { clientId: ep.client_id }), (e) => {
    assert.ok(e instanceof TokenExchangeRefused);
    assert.equal(e.error, "access_denied");
    assert.equal(e.status, 403);
    assert.match(e.message, /Client not allowed to exchange/);
    return true;
  });
});

Deno.test("desp login - a login page without the login form, or a huge one, is LoginPageChanged", async () => {
  // DESP's real page with its form taken out, as a redesign could do.
  const changed: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!(res.headers.get("content-type") ?? "").includes("html")) return res;
    const html = (await res.text()).replace(/<form[\s\S]*?<\/form>/g, "<p>New login</p>");
    return new Response(html, { status: res.status, headers: res.headers });
  };
  await assert.rejects(login(carol, { fetch: changed }), (e) => {
    assert.ok(e instanceof LoginPageChanged);
    assert.equal(e.url, `${ep.desp.issuer}/protocol/openid-connect/auth`);
    assert.match(e.expected, /username and password/);
    assert.ok(!e.message.includes("session_code"));
    return true;
  });
  // A page far bigger than a login page is not read to its end.
  const huge: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!(res.headers.get("content-type") ?? "").includes("html")) return res;
    const html = (await res.text()) + "<!-- padding -->".repeat(100_000);
    return new Response(html, { status: res.status, headers: res.headers });
  };
  await assert.rejects(login(carol, { fetch: huge }), (e) => {
    assert.ok(e instanceof LoginPageChanged);
    assert.match(e.expected, /usual size/);
    return true;
  });
});

Deno.test("desp login - a redirect URI DESP does not know is refused with DESP's words", async () => {
  await assert.rejects(login(carol, { redirectUri: "https://elsewhere.example.org/cb" }), (e) => {
    assert.ok(e instanceof IdentityProviderRejected);
    assert.equal(e.status, 400);
    assert.match(e.serverMessage ?? "", /redirect_uri/);
    return true;
  });
});

Deno.test("desp login - a gateway starts and stops a cluster with the exchanged token", async () => {
  await using auth = await login(carol);
  const site = ep.sites.central;
  const gateway = new Gateway({ address: site.address, proxyAddress: site.proxy_address, auth });
  await using cluster = await gateway.newCluster({ worker_cores: 1, worker_memory: 1 });
  const listed = await gateway.listClusters();
  assert.ok(listed.some((c) => c.name === cluster.name && c.status === "RUNNING"));
  await gateway.stopCluster(cluster.name);
  const after = await gateway.listClusters();
  assert.ok(!after.some((c) => c.name === cluster.name));
});

Deno.test("desp login - the token cache keeps only DESP's refresh token and resumes without a password", async () => {
  await using user = await despUser();
  const dir = await Deno.makeTempDir({ prefix: "dedl-desp-cache-" });
  try {
    const cache = new FileTokenCache(`${dir}/refresh-tokens.json`);
    const http = new HttpRecorder();
    const first = await login(user, { tokenCache: cache, fetch: http.fetch });
    const token = await first.accessToken();
    await first[Symbol.asyncDispose](); // keeps the session for the next run
    const stored = await Deno.readTextFile(cache.path);
    assert.equal((await Deno.stat(cache.path)).mode! & 0o777, 0o600);
    assert.ok(!stored.includes(user.password));
    assert.ok(!stored.includes(token));
    const entries = Object.entries(JSON.parse(stored).refreshTokens as Record<string, string>);
    assert.deepEqual(entries.map(([key]) => key), [
      `${ep.desp.issuer} dedl-hda ${user.username}`,
    ]);
    // The stored token is DESP's: the one DESP issued at the code grant.
    const codeAnswer = http.answers[
      http.requests.findIndex((r) => r.grantType === "authorization_code")
    ];
    assert.equal(entries[0][1], codeAnswer.body!.refresh_token);

    const resumed = await OidcAuth.desp({
      issuer: ep.issuer,
      despIssuer: ep.desp.issuer,
      username: user.username,
      tokenCache: cache,
      prompt: () => Promise.reject(new Error("asked for the password")),
    });
    assert.equal(resumed.username, user.username);
    await verifiedClaims(await resumed.accessToken());
    await resumed.logout(); // revokes the DESP session and forgets it
    assert.deepEqual(JSON.parse(await Deno.readTextFile(cache.path)).refreshTokens, {});
    await assert.rejects(resumed.accessToken(), ReauthenticationRequired);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("desp login - when DESP ends the session: relogin if given, else ReauthenticationRequired", async () => {
  await using user = await despUser();
  const admin = await KeycloakAdmin.connect(ep, ep.desp.issuer);
  const lone = await login(user);
  let relogins = 0;
  await using withRelogin = await login(user, {
    relogin: () => {
      relogins++;
      return login(user);
    },
  });
  await admin.logoutUser(user.id);
  await assert.rejects(lone.accessToken({ forceRefresh: true }), ReauthenticationRequired);
  await verifiedClaims(await withRelogin.accessToken({ forceRefresh: true }));
  assert.equal(relogins, 1);
});

Deno.test("desp login - inspecting or serialising a login shows no token or password", async () => {
  const http = new HttpRecorder();
  await using auth = await login(carol, { fetch: http.fetch });
  const secrets = http.answers.flatMap((a) =>
    ["access_token", "refresh_token"].map((k) => a.body?.[k]).filter((v) => typeof v === "string")
  ) as string[];
  assert.ok(secrets.length >= 3);
  for (const text of [Deno.inspect(auth, { depth: 10, showHidden: true }), JSON.stringify(auth)]) {
    assert.ok(text.includes(carol.username), text);
    for (const secret of [...secrets, carol.password]) assert.ok(!text.includes(secret));
  }
});

Deno.test("desp login - after the token's lifetime, 20 concurrent calls share one renewal", async () => {
  recordSecret(earlyToken);
  const lifetimeMs = ((early.claims.exp as number) - (early.claims.iat as number)) * 1000;
  assert.equal(lifetimeMs, 30_000);
  const wait = (early.claims.iat as number) * 1000 + lifetimeMs + 500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const before = { refresh: earlyHttp.grants(REFRESH), exchange: earlyHttp.grants(EXCHANGE) };
  const tokens = await Promise.all(Array.from({ length: 20 }, () => early.accessToken()));
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], earlyToken);
  assert.equal(earlyHttp.grants(REFRESH) - before.refresh, 1);
  assert.equal(earlyHttp.grants(EXCHANGE) - before.exchange, 1);
  // The refresh went to DESP with DESP's client; the exchange to DEDL.
  const refresh = earlyHttp.requests.filter((r) => r.grantType === REFRESH).at(-1)!;
  assert.equal(refresh.clientId, "dedl-hda");
  assert.ok(refresh.url.startsWith(ep.desp.issuer));
  const claims = await verifiedClaims(tokens[0]);
  assert.equal(claims.preferred_username, carol.username);
  await early[Symbol.asyncDispose]();
});
