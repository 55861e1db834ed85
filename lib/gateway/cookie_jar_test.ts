import assert from "node:assert/strict";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { CookieJar } from "./cookie_jar.ts";
import { Gateway, gatewayCookies } from "./gateway.ts";
import type { OidcAuth } from "../auth/mod.ts";
import { replicaLogin } from "./testing/replica_login.ts";

const ep = await readEndpoints();

function setCookies(...lines: string[]): Headers {
  const h = new Headers();
  for (const line of lines) h.append("Set-Cookie", line);
  return h;
}

Deno.test("cookie jar - keeps a gateway session cookie and sends it back to its origin only", () => {
  const jar = new CookieJar("http://127.0.0.1:8000");
  const url = new URL("http://127.0.0.1:8000/api/v1/clusters/");
  jar.store(url, setCookies("dask-gateway-ab12=cd34; HttpOnly; Max-Age=600; Path=/"), 0);
  assert.equal(
    jar.header(new URL("http://127.0.0.1:8000/api/v1/options"), 1_000),
    "dask-gateway-ab12=cd34",
  );
  // Same host, another port: another gateway, never sent (browsers would send it).
  assert.equal(jar.header(new URL("http://127.0.0.1:8001/api/v1/options"), 1_000), undefined);
  jar.store(new URL("http://127.0.0.1:8001/x"), setCookies("other=1"), 0);
  assert.equal(jar.size, 1);
});

Deno.test("cookie jar - Max-Age and Expires end a cookie; Max-Age=0 deletes it", () => {
  const jar = new CookieJar("http://h:1");
  const url = new URL("http://h:1/");
  jar.store(url, setCookies("a=1; Max-Age=600", "b=2; Expires=Thu, 01 Jan 1970 00:00:05 GMT"), 0);
  assert.equal(jar.header(url, 4_000), "a=1; b=2");
  assert.equal(jar.header(url, 5_000), "a=1");
  assert.equal(jar.header(url, 600_000), undefined);
  jar.store(url, setCookies("c=3"), 0);
  jar.store(url, setCookies("c=3; Max-Age=0"), 1);
  assert.equal(jar.header(url, 2), undefined);
});

Deno.test("cookie jar - a new identity drops the cookies of the old one", () => {
  const jar = new CookieJar("http://h:1");
  const url = new URL("http://h:1/");
  jar.useFor("alice");
  jar.store(url, setCookies("s=alice-session"));
  jar.useFor("alice");
  assert.equal(jar.header(url), "s=alice-session");
  jar.useFor("bob");
  assert.equal(jar.header(url), undefined);
});

Deno.test("cookie jar - Path, Secure, Domain and size limits", () => {
  const jar = new CookieJar("http://gw.example.org");
  const url = new URL("http://gw.example.org/api/x");
  jar.store(
    url,
    setCookies(
      "p=1; Path=/api",
      "q=2; Path=/other",
      "s=3; Secure",
      "d=4; Domain=elsewhere.org",
      `big=${"x".repeat(5000)}`,
      "=novalue",
    ),
  );
  assert.equal(jar.header(url), "p=1");
  assert.equal(jar.header(new URL("http://gw.example.org/apis")), undefined);
  for (let i = 0; i < 100; i++) jar.store(url, setCookies(`n${i}=v`));
  assert.ok(jar.size <= 20);
});

Deno.test("cookie jar - the cookie a real gateway sets is kept and alone authenticates there", async () => {
  await using auth = await replicaLogin(0);
  const central = new Gateway({ address: ep.sites.central.address, auth });
  // The gateway hands out a user's existing cookie even when its cache already considers it
  // stale (older than 300 s); the first cookie-only request then evicts it. A second login
  // gets a fresh one.
  let cookie: string | undefined;
  let status = 0;
  for (let round = 0; round < 2 && status !== 200; round++) {
    await central.listClusters();
    cookie = gatewayCookies(central).header(new URL(`${central.address}/api/v1/clusters/`));
    assert.match(cookie ?? "", /^dask-gateway-[0-9a-f]+=[0-9a-f]+$/);
    const withCookieOnly = await fetch(`${central.address}/api/v1/clusters/`, {
      headers: { Cookie: cookie! },
      signal: AbortSignal.timeout(10_000),
    });
    await withCookieOnly.body?.cancel();
    status = withCookieOnly.status;
  }
  assert.equal(status, 200, "the stored cookie is a live session");
  // lumi's gateway does not know central's session: one jar per origin is not a formality.
  const atLumi = await fetch(`${ep.sites.lumi.address}/api/v1/clusters/`, {
    headers: { Cookie: cookie! },
    signal: AbortSignal.timeout(10_000),
  });
  await atLumi.body?.cancel();
  assert.equal(atLumi.status, 401);
  assert.equal(
    gatewayCookies(central).header(new URL(`${ep.sites.lumi.address}/api/v1/clusters/`)),
    undefined,
  );
});

Deno.test("cookie jar - after the token source switches user, no request carries the old session", async () => {
  await using alice = await replicaLogin(0);
  await using bob = await replicaLogin(1);
  let current: OidcAuth = alice;
  const switching = {
    get identity() {
      return current.identity;
    },
    accessToken: (o?: { forceRefresh?: boolean }) => current.accessToken(o),
  };
  const sent: (string | null)[] = [];
  const recording: typeof fetch = (input, init) => {
    sent.push(new Headers(init?.headers).get("Cookie"));
    return fetch(input, init);
  };
  const gateway = new Gateway({
    address: ep.sites.central.address,
    auth: switching,
    fetch: recording,
  });
  await gateway.listClusters();
  await gateway.listClusters();
  const aliceCookie = sent[1];
  assert.match(aliceCookie ?? "", /^dask-gateway-/, "alice's second request carries her session");
  current = bob;
  await gateway.listClusters();
  assert.equal(sent[2], null, "bob's first request carries no cookie");
  await gateway.listClusters();
  assert.match(sent[3] ?? "", /^dask-gateway-/);
  assert.notEqual(sent[3], aliceCookie);
});
