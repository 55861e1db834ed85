/**
 * The replica itself, checked against its real parts: Keycloak issues verifiable tokens, each
 * gateway accepts only fresh Keycloak tokens, clusters start with the site's options, and
 * `replica stop` leaves nothing behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as jose from "npm:jose@6.2.18";
import { allowTokenExchange, DESP_IDP_ALIAS } from "./desp_realm.ts";
import { readEndpoints } from "./endpoints.ts";
import { isAlive, pidsWithEnv, portOpen } from "./process.ts";

const ep = await readEndpoints();
const alice = ep.users[0];

async function passwordGrant(username: string, password: string): Promise<Response> {
  return await fetch(ep.token_url, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      client_id: ep.client_id,
      username,
      password,
    }),
    signal: AbortSignal.timeout(10_000),
  });
}

async function adminToken(base: string): Promise<string> {
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
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

async function accessToken(): Promise<string> {
  const res = await passwordGrant(alice.username, alice.password);
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

// Taken first so that it has expired by the time the last test uses it.
const earlyToken = await accessToken();

async function api(
  site: string,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return await fetch(`${ep.sites[site].address}${path}`, {
    ...init,
    headers,
    signal: AbortSignal.timeout(30_000),
  });
}

Deno.test("replica keycloak - password grant gives a token that verifies against the realm JWKS", async () => {
  const token = await accessToken();
  const jwks = jose.createRemoteJWKSet(new URL(ep.jwks_url));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
    issuer: ep.issuer,
    audience: "account",
    algorithms: ["RS256"],
  });
  assert.equal(protectedHeader.alg, "RS256");
  assert.equal(payload.preferred_username, alice.username);
  assert.ok([payload.aud].flat().includes("account"));
  assert.equal(payload.azp, ep.client_id);
  assert.equal((payload.exp as number) - (payload.iat as number), 30);
});

Deno.test("replica keycloak - a service account gets a token the gateways take", async () => {
  const [account] = ep.service_accounts;
  const res = await fetch(ep.token_url, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: account.client_id,
      client_secret: account.client_secret,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  const token = (await res.json()).access_token;
  const claims = jose.decodeJwt(token);
  assert.equal(claims.aud, "account");
  assert.ok((claims.realm_access as { roles: string[] }).roles.includes("stack-dask"));
  const clusters = await api("central", "/api/v1/clusters/", { token });
  assert.equal(clusters.status, 200);
  await clusters.body?.cancel();
});

Deno.test("replica keycloak - DESP users have no password at DEDL; the desp realm is DESP", async () => {
  for (const user of ep.desp.users) {
    const res = await passwordGrant(user.username, user.password);
    assert.equal(res.status, 400); // invalid_grant: no such password at DEDL
    assert.equal((await res.json()).error, "invalid_grant");
  }
  const discovery = await fetch(`${ep.desp.issuer}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal((await discovery.json()).issuer, ep.desp.issuer);
});

Deno.test("replica keycloak - the token-exchange permission setup is idempotent", async () => {
  const base = ep.issuer.replace(/\/realms\/dedl$/, "");
  // Runs at every start; once more must change nothing and fail nothing.
  await allowTokenExchange(base, ep.admin);
  await allowTokenExchange(base, ep.admin);
  const admin = await adminToken(base);
  const get = async (path: string) => {
    const res = await fetch(`${base}/admin/realms/dedl${path}`, {
      headers: { Authorization: `Bearer ${admin}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, path);
    return await res.json();
  };
  const permissions = await get(
    `/identity-provider/instances/${DESP_IDP_ALIAS}/management/permissions`,
  );
  assert.equal(permissions.enabled, true);
  const [realmManagement] = await get("/clients?clientId=realm-management");
  const policies = await get(
    `/clients/${realmManagement.id}/authz/resource-server/policy/` +
      `${permissions.scopePermissions["token-exchange"]}/associatedPolicies`,
  );
  assert.equal(policies.length, 1);
});

Deno.test("replica keycloak - wrong password is invalid_grant", async () => {
  const res = await passwordGrant(alice.username, "not-the-password");
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, "invalid_grant");
});

for (const site of Object.keys(ep.sites)) {
  Deno.test(`replica gateway ${site} - health answers without a token`, async () => {
    const res = await api(site, "/api/health");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "pass" });
  });

  Deno.test(`replica gateway ${site} - no token is 401`, async () => {
    const res = await api(site, "/api/v1/clusters/");
    await res.body?.cancel();
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
  });

  Deno.test(`replica gateway ${site} - token signed by a foreign key is 401`, async () => {
    const { privateKey } = await jose.generateKeyPair("RS256");
    const forged = await new jose.SignJWT({ preferred_username: alice.username })
      .setProtectedHeader({ alg: "RS256", kid: "forged" })
      .setIssuer(ep.issuer)
      .setAudience("account")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    const res = await api(site, "/api/v1/clusters/", { token: forged });
    await res.body?.cancel();
    assert.equal(res.status, 401);
  });

  Deno.test(`replica gateway ${site} - a fresh token is 200, even after a cookie was set`, async () => {
    const token = await accessToken();
    const res = await api(site, "/api/v1/clusters/", { token });
    assert.equal(res.status, 200);
    assert.equal(typeof await res.json(), "object");
    const cookie = res.headers.get("set-cookie")?.split(";")[0];
    assert.ok(cookie, "the gateway sets its session cookie");
    // A wrong token never rides on the cookie.
    const wrong = await api(site, "/api/v1/clusters/", {
      token: "not-a-jwt",
      headers: { Cookie: cookie },
    });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);
  });

  Deno.test(`replica gateway ${site} - cluster with options starts, echoes them, stops`, async () => {
    const token = await accessToken();
    const created = await api(site, "/api/v1/clusters/", {
      method: "POST",
      token,
      body: JSON.stringify({ cluster_options: { worker_cores: 3, worker_memory: 6 } }),
    });
    assert.equal(created.status, 201);
    const { name } = await created.json();
    try {
      let cluster: { status: string; options: Record<string, unknown>; tls_cert: string | null };
      const deadline = Date.now() + 60_000;
      do {
        const res = await api(site, `/api/v1/clusters/${name}?wait=1`, { token });
        assert.equal(res.status, 200);
        cluster = await res.json();
      } while (cluster.status === "PENDING" && Date.now() < deadline);
      assert.equal(cluster.status, "RUNNING");
      assert.equal(cluster.options.worker_cores, 3);
      assert.equal(cluster.options.worker_memory, 6);
      assert.match(cluster.tls_cert ?? "", /BEGIN CERTIFICATE/);
    } finally {
      const stopped = await api(site, `/api/v1/clusters/${name}`, { method: "DELETE", token });
      await stopped.body?.cancel();
      assert.equal(stopped.status, 204);
    }
    let status = "";
    for (let i = 0; i < 60 && status !== "STOPPED"; i++) {
      const res = await api(site, `/api/v1/clusters/${name}`, { token });
      status = (await res.json()).status;
      if (status !== "STOPPED") await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, "STOPPED");
  });

  Deno.test(`replica gateway ${site} - worker_cores 11 is refused with 422`, async () => {
    const res = await api(site, "/api/v1/clusters/", {
      method: "POST",
      token: await accessToken(),
      body: JSON.stringify({ cluster_options: { worker_cores: 11 } }),
    });
    assert.equal(res.status, 422);
    assert.match((await res.json()).error, /worker_cores must be <= 10/);
  });
}

Deno.test("replica gateways - an expired Keycloak token is 401", async () => {
  const { exp } = jose.decodeJwt(earlyToken);
  const wait = (exp as number) * 1000 + 1500 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  for (const site of Object.keys(ep.sites)) {
    const res = await api(site, "/api/v1/clusters/", { token: earlyToken });
    await res.body?.cancel();
    assert.equal(res.status, 401, site);
  }
});

Deno.test("replica object stores - each site serves its Zarr v2 stores anonymously, read-only", async () => {
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: await res.text() };
  };
  for (const [site, s] of Object.entries(ep.sites)) {
    assert.match(s.store!, /^http:\/\/127\.0\.0\.1:\d+$/, site);
    assert.deepEqual(Object.keys(s.dataset_urls!).sort(), Object.keys(s.datasets!).sort(), site);
    for (const [name, url] of Object.entries(s.dataset_urls!)) {
      assert.equal(url, `${s.store}/datasets/${name}.zarr`);
      const zmetadata = await get(`${url}/.zmetadata`);
      assert.equal(zmetadata.status, 200, `${site} ${name}`);
      const { metadata, zarr_consolidated_format } = JSON.parse(zmetadata.text);
      assert.equal(zarr_consolidated_format, 1);
      assert.deepEqual(metadata[".zgroup"], { zarr_format: 2 });
      assert.equal(metadata[".zattrs"].location, site);
      assert.equal(typeof metadata[".zattrs"].resolution, "string");
      // The same files as the site's local copy, byte for byte.
      assert.equal(zmetadata.text, await Deno.readTextFile(`${s.datasets![name]}/.zmetadata`));
    }
    // Path-style S3 listing works; writes and deletes are refused and change nothing.
    const listing = await get(`${s.store}/datasets?list-type=2&delimiter=/&prefix=`);
    assert.equal(listing.status, 200);
    for (const name of Object.keys(s.datasets!)) {
      assert.match(listing.text, new RegExp(`<Prefix>${name}\\.zarr/</Prefix>`));
    }
    const target = `${s.dataset_urls!.temperature}/written-by-test`;
    const put = await fetch(target, {
      method: "PUT",
      body: "x",
      signal: AbortSignal.timeout(10_000),
    });
    await put.body?.cancel();
    assert.ok(!put.ok, `PUT answered ${put.status}`);
    const del = await fetch(`${s.dataset_urls!.temperature}/.zgroup`, {
      method: "DELETE",
      signal: AbortSignal.timeout(10_000),
    });
    await del.body?.cancel();
    assert.ok(!del.ok, `DELETE answered ${del.status}`);
    assert.equal((await get(target)).status, 404);
    assert.equal((await get(`${s.dataset_urls!.temperature}/.zgroup`)).status, 200);
  }
});

Deno.test({
  name: "replica - a second replica starts idempotently and its stop leaves no process or port",
  ignore: Deno.env.get("DEDL_SKIP_SECOND_REPLICA") === "1",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dedl-replica-" });
    const script = new URL("./replica.ts", import.meta.url).pathname;
    const run = async (cmd: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, cmd],
        env: { DEDL_REPLICA_DIR: dir },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `replica ${cmd} failed:\n${text}`);
      return text;
    };
    try {
      await run("start");
      const state = JSON.parse(await Deno.readTextFile(join(dir, "state.json")));
      assert.match(await run("start"), /already running/);
      await run("status");
      await run("stop");
      for (const p of state.processes) {
        assert.ok(!isAlive(p.pid), `${p.part} (pid ${p.pid}) still running`);
        assert.ok(!(await portOpen(p.port)), `${p.part} port ${p.port} still bound`);
      }
      assert.deepEqual(pidsWithEnv("DEDL_REPLICA_ID", state.id), []);
    } finally {
      await run("stop").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
