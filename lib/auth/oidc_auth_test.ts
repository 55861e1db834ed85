import assert from "node:assert/strict";
import * as jose from "npm:jose@6.2.18";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import {
  ClockSkewTooLarge,
  DeviceAuthorizationDenied,
  DeviceCodeExpired,
  IdentityProviderUnreachable,
  InvalidCredentials,
  ReauthenticationRequired,
  ReloginMismatch,
} from "./errors.ts";
import { IdentityProvider } from "./identity_provider.ts";
import { OidcAuth, type PasswordLoginOptions } from "./oidc_auth.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";
import { KeycloakAdmin } from "./testing/keycloak_admin.ts";
import { answerDeviceLogin } from "./testing/keycloak_device_approval.ts";

const ep = await readEndpoints();
const alice = ep.users[0];
const bob = ep.users[1];
const jwks = jose.createRemoteJWKSet(new URL(ep.jwks_url));
const REFRESH = "refresh_token";
const DEVICE = "urn:ietf:params:oauth:grant-type:device_code";

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
  user: { username: string; password: string } = alice,
  extra: Partial<PasswordLoginOptions> = {},
): Promise<OidcAuth> {
  return OidcAuth.password({
    issuer: ep.issuer,
    username: user.username,
    password: user.password,
    ...extra,
  });
}

// Logged in first, left alone, and used by the last test once its token has expired: the
// lifespan wait overlaps with the other tests.
const earlyHttp = new HttpRecorder();
const early = await login(alice, { fetch: earlyHttp.fetch });

Deno.test("oidc auth - password login gives a verified token whose claims carry the username", async () => {
  await using auth = await login();
  const token = await auth.accessToken();
  const claims = await verifiedClaims(token);
  assert.equal(auth.username, alice.username);
  assert.equal(auth.claims.preferred_username, alice.username);
  assert.equal(auth.claims.sub, claims.sub);
  assert.equal(auth.identity, `${ep.issuer}#${claims.sub}`);
  assert.deepEqual(await auth.headers(), { Authorization: `Bearer ${token}` });
});

Deno.test("oidc auth - two logins of the same user share an identity; another user's differs", async () => {
  await using a1 = await login(alice);
  await using a2 = await login(alice);
  await using b = await login(bob);
  assert.equal(a1.identity, a2.identity);
  assert.notEqual(a1.identity, b.identity);
});

Deno.test("oidc auth - wrong password is InvalidCredentials with Keycloak's message", async () => {
  await assert.rejects(login({ username: alice.username, password: "wrong-password" }), (e) => {
    assert.ok(e instanceof InvalidCredentials);
    assert.equal(e.serverMessage, "Invalid user credentials");
    return true;
  });
});

Deno.test("oidc auth - without a password the prompt function is asked once", async () => {
  const questions: string[] = [];
  await using auth = await OidcAuth.password({
    issuer: ep.issuer,
    username: alice.username,
    prompt: (question) => {
      questions.push(question);
      return Promise.resolve(alice.password);
    },
  });
  assert.equal(auth.username, alice.username);
  assert.deepEqual(questions, [`Password for ${alice.username} at ${ep.issuer}: `]);
});

Deno.test("oidc auth - inspecting or serialising a login shows no token", async () => {
  const http = new HttpRecorder();
  await using auth = await login(alice, { fetch: http.fetch });
  const answer = http.answers.find((a) => a.body?.access_token)!.body!;
  const shown = [Deno.inspect(auth, { depth: 10, showHidden: true }), JSON.stringify(auth)];
  for (const text of shown) {
    assert.ok(text.includes(alice.username), text);
    assert.ok(!text.includes(answer.access_token as string));
    assert.ok(!text.includes(answer.refresh_token as string));
    assert.ok(!text.includes(alice.password));
  }
});

Deno.test("oidc auth - the refresh margin adapts to short tokens: a 30 s token is used for 15 s", async () => {
  let offset = 0;
  const http = new HttpRecorder();
  await using auth = await login(alice, { fetch: http.fetch, now: () => Date.now() + offset });
  const first = await auth.accessToken();
  offset = 13_000;
  assert.equal(await auth.accessToken(), first);
  assert.equal(http.grants(REFRESH), 0);
  offset = 16_000;
  const second = await auth.accessToken();
  assert.notEqual(second, first);
  assert.equal(http.grants(REFRESH), 1);
  await verifiedClaims(second);
});

Deno.test("oidc auth - a smaller refresh margin refreshes later", async () => {
  let offset = 0;
  const http = new HttpRecorder();
  await using auth = await login(alice, {
    fetch: http.fetch,
    now: () => Date.now() + offset,
    refreshMarginSeconds: 5,
  });
  const first = await auth.accessToken();
  offset = 22_000;
  assert.equal(await auth.accessToken(), first);
  offset = 26_000;
  assert.notEqual(await auth.accessToken(), first);
  assert.equal(http.grants(REFRESH), 1);
});

Deno.test("oidc auth - while the provider is unreachable the current token is used until it expires", async () => {
  let offset = 0;
  let down = false;
  const http = new HttpRecorder();
  const flaky: typeof fetch = (input, init) =>
    down
      ? Promise.reject(new TypeError("connection refused (simulated outage)"))
      : http.fetch(input, init);
  await using auth = await login(alice, { fetch: flaky, now: () => Date.now() + offset });
  const first = await auth.accessToken();
  down = true;
  offset = 20_000; // due for refresh, not expired
  assert.equal(await auth.accessToken(), first);
  await assert.rejects(auth.accessToken({ forceRefresh: true }), IdentityProviderUnreachable);
  offset = 31_000; // expired
  await assert.rejects(auth.accessToken(), (e) => {
    assert.ok(e instanceof IdentityProviderUnreachable);
    assert.match(e.url, /\/protocol\/openid-connect\/token$/);
    return true;
  });
  down = false;
  const next = await auth.accessToken();
  assert.notEqual(next, first);
  assert.equal(http.grants(REFRESH), 1);
});

Deno.test("oidc auth - forced refreshes by concurrent callers share one request, with the login's client id", async () => {
  const http = new HttpRecorder();
  await using auth = await login(alice, { fetch: http.fetch });
  const first = await auth.accessToken();
  const tokens = await Promise.all(
    Array.from({ length: 10 }, () => auth.accessToken({ forceRefresh: true })),
  );
  assert.equal(http.grants(REFRESH), 1);
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], first);
  const refresh = http.requests.find((r) => r.grantType === REFRESH)!;
  assert.equal(refresh.clientId, ep.client_id);
});

Deno.test("oidc auth - logout revokes the session at Keycloak; the login then needs a new one", async () => {
  const http = new HttpRecorder();
  const auth = await login(alice, { fetch: http.fetch });
  const refreshToken = http.answers.find((a) => a.body?.refresh_token)!.body!
    .refresh_token as string;
  await auth.logout();
  assert.equal(http.calls("/protocol/openid-connect/revoke"), 1);
  // Keycloak itself no longer accepts the refresh token.
  const idp = await IdentityProvider.discover({
    issuer: ep.issuer,
    clientId: ep.client_id,
    timeoutMs: 5_000,
  });
  await assert.rejects(idp.refreshGrant(refreshToken), (e) => {
    assert.ok(e instanceof ReauthenticationRequired);
    assert.equal(e.reason, "Session not active");
    return true;
  });
  await assert.rejects(auth.accessToken(), (e) => {
    assert.ok(e instanceof ReauthenticationRequired);
    assert.equal(e.reason, "logged out");
    return true;
  });
});

Deno.test("oidc auth - after logout a relogin callback logs in again", async () => {
  let relogins = 0;
  const auth = await login(alice, {
    relogin: () => {
      relogins++;
      return login(alice);
    },
  });
  const before = await auth.accessToken();
  await auth.logout();
  const after = await auth.accessToken();
  assert.equal(relogins, 1);
  assert.notEqual(after, before);
  assert.equal((await verifiedClaims(after)).preferred_username, alice.username);
  await auth.logout();
});

Deno.test("oidc auth - a session ended by an administrator is ReauthenticationRequired; the password is not re-sent", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const http = new HttpRecorder();
  await using auth = await login(user, { fetch: http.fetch });
  await auth.accessToken();
  await admin.logoutUser(user.id);
  await assert.rejects(auth.accessToken({ forceRefresh: true }), (e) => {
    assert.ok(e instanceof ReauthenticationRequired);
    assert.equal(e.reason, "Session not active");
    assert.match(e.message, /log in again/);
    return true;
  });
  // Later calls fail the same way without asking the server again.
  await assert.rejects(auth.accessToken(), ReauthenticationRequired);
  assert.equal(http.grants("password"), 1, "the password was used once and not kept");
  assert.equal(http.grants(REFRESH), 1);
});

Deno.test("oidc auth - a session ended by an administrator is re-established once through relogin", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const reasons: string[] = [];
  await using auth = await login(user, {
    relogin: (reason) => {
      reasons.push(reason.reason);
      return login(user);
    },
  });
  const before = await auth.accessToken();
  const identity = auth.identity;
  await admin.logoutUser(user.id);
  const after = await Promise.all(
    Array.from({ length: 5 }, () => auth.accessToken({ forceRefresh: true })),
  );
  assert.deepEqual(reasons, ["Session not active"]);
  assert.equal(new Set(after).size, 1);
  assert.notEqual(after[0], before);
  assert.equal((await verifiedClaims(after[0])).preferred_username, user.username);
  assert.equal(auth.identity, identity);
});

Deno.test("oidc auth - a relogin for another issuer is refused", async () => {
  const auth = await login(alice, {
    relogin: () =>
      OidcAuth.password({
        issuer: ep.issuer.replace("127.0.0.1", "localhost"),
        username: alice.username,
        password: alice.password,
      }),
  });
  await auth.logout();
  await assert.rejects(auth.accessToken(), (e) => {
    assert.ok(e instanceof ReloginMismatch, String(e));
    assert.equal(e.code, "ERR_RELOGIN_MISMATCH");
    assert.match(e.message, /relogin returned a login for http:\/\/localhost/);
    return true;
  });
});

Deno.test("oidc auth - a local clock 10 minutes ahead is ClockSkewTooLarge", async () => {
  await assert.rejects(login(alice, { now: () => Date.now() + 600_000 }), (e) => {
    assert.ok(e instanceof ClockSkewTooLarge);
    assert.ok(Math.abs(e.skewSeconds - 600) < 30, String(e.skewSeconds));
    assert.equal(e.leewaySeconds, 10);
    return true;
  });
});

// --- device login ---

/** The device-code polls among the recorded requests: their start times and answers. */
function polls(http: HttpRecorder) {
  return http.requests.flatMap((r, i) =>
    r.grantType === DEVICE ? [{ at: http.startedAt[i], answer: http.answers[i] }] : []
  );
}

Deno.test("oidc auth - device login approved through Keycloak's pages, polled at the given interval", async () => {
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  let pendingSeen!: () => void;
  const pending = new Promise<void>((resolve) => pendingSeen = resolve);
  const http = new HttpRecorder({
    rewriteJson: (_, body) => {
      if (body.error === "authorization_pending") pendingSeen();
    },
  });
  let approval: Promise<void> | undefined;
  await using auth = await OidcAuth.deviceCode({
    issuer: ep.issuer,
    fetch: http.fetch,
    onPrompt: (prompt) => {
      assert.equal(prompt.verificationUri, `${ep.issuer}/device`);
      assert.match(prompt.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
      assert.equal(prompt.expiresIn, 600);
      // Approve only once a poll was answered "pending", so that there are polls to space.
      approval = pending.then(() => answerDeviceLogin({ prompt, ...user, decision: "accept" }));
    },
  });
  await approval;
  assert.equal(auth.username, user.username);
  assert.equal((await verifiedClaims(await auth.accessToken())).preferred_username, user.username);
  const seen = polls(http);
  assert.ok(seen.length >= 2, `${seen.length} polls`);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i].at - seen[i - 1].at >= 990, `poll ${i} came early`);
  }
});

Deno.test("oidc auth - device login slows down by 5 s when Keycloak answers slow_down", async () => {
  let slowDownSeen!: () => void;
  const slowedDown = new Promise<void>((resolve) => slowDownSeen = resolve);
  const http = new HttpRecorder({
    rewriteJson: (request, body) => {
      // Poll almost without pause, so that Keycloak itself answers slow_down.
      if (request.url.endsWith("/auth/device")) body.interval = 0.01;
      if (body.error === "slow_down") slowDownSeen();
    },
  });
  let approval: Promise<void> | undefined;
  await using auth = await OidcAuth.deviceCode({
    issuer: ep.issuer,
    fetch: http.fetch,
    onPrompt: (prompt) => {
      approval = slowedDown.then(() => answerDeviceLogin({ prompt, ...bob, decision: "accept" }));
    },
  });
  await approval;
  assert.equal(auth.username, bob.username);
  const seen = polls(http);
  const first = seen.findIndex((p) => p.answer.body?.error === "slow_down");
  assert.ok(first >= 0 && first + 1 < seen.length);
  for (let i = first + 1; i < seen.length; i++) {
    assert.ok(seen[i].at - seen[i - 1].at >= 4_990, `poll ${i} did not slow down`);
  }
});

Deno.test("oidc auth - a device code left unapproved expires as DeviceCodeExpired", async () => {
  const http = new HttpRecorder({
    rewriteJson: (request, body) => {
      if (request.url.endsWith("/auth/device")) body.expires_in = 2;
    },
  });
  await assert.rejects(
    OidcAuth.deviceCode({ issuer: ep.issuer, fetch: http.fetch, onPrompt: () => {} }),
    (e) => {
      assert.ok(e instanceof DeviceCodeExpired);
      assert.equal(e.expiresInSeconds, 2);
      return true;
    },
  );
  assert.ok(polls(http).length >= 1);
});

Deno.test("oidc auth - a denied device login is DeviceAuthorizationDenied", async () => {
  let answer: Promise<void> | undefined;
  await assert.rejects(
    OidcAuth.deviceCode({
      issuer: ep.issuer,
      onPrompt: (prompt) => {
        answer = answerDeviceLogin({ prompt, ...bob, decision: "cancel" });
      },
    }),
    DeviceAuthorizationDenied,
  );
  await answer;
});

Deno.test("oidc auth - aborting a device login stops the polling with the abort reason", async () => {
  const controller = new AbortController();
  const http = new HttpRecorder();
  const reason = new Error("user gave up");
  await assert.rejects(
    OidcAuth.deviceCode({
      issuer: ep.issuer,
      fetch: http.fetch,
      signal: controller.signal,
      onPrompt: () => setTimeout(() => controller.abort(reason), 1_500),
    }),
    (e) => e === reason,
  );
  const count = polls(http).length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(polls(http).length, count, "no poll after the abort");
});

// --- last: the early login's token has expired by now ---

Deno.test("oidc auth - 50 callers at expiry share exactly one refresh and get one new verified token", async () => {
  const first = earlyHttp.answers.find((a) => a.body?.access_token)!.body!.access_token as string;
  const { exp } = jose.decodeJwt(first);
  const wait = exp! * 1000 + 1_000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  assert.equal(earlyHttp.grants(REFRESH), 0);
  const tokens = await Promise.all(Array.from({ length: 50 }, () => early.accessToken()));
  assert.equal(earlyHttp.grants(REFRESH), 1);
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], first);
  const claims = await verifiedClaims(tokens[0]);
  assert.equal(claims.preferred_username, alice.username);
  assert.ok(claims.exp! > exp!);
  assert.equal(earlyHttp.requests.find((r) => r.grantType === REFRESH)!.clientId, ep.client_id);
  await early.logout();
});
