import assert from "node:assert/strict";
import { join } from "node:path";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { InvalidCredentials, TokenCacheInsecure, TokenCacheUnusable } from "./errors.ts";
import { OidcAuth } from "./oidc_auth.ts";
import { FileTokenCache, tokenCacheKey } from "./token_cache.ts";
import { HttpRecorder } from "./testing/http_recorder.ts";
import { KeycloakAdmin } from "./testing/keycloak_admin.ts";

const ep = await readEndpoints();

async function tempCache() {
  const dir = await Deno.makeTempDir({ prefix: "dedl-auth-cache-" });
  const cache = new FileTokenCache(join(dir, "sub", "refresh-tokens.json"));
  return {
    cache,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("token cache - stores, loads and deletes refresh tokens in a private file", async () => {
  await using t = await tempCache();
  assert.equal(await t.cache.load("k"), undefined);
  await t.cache.store("k", "refresh-1");
  await t.cache.store("other", "refresh-2");
  assert.equal(await t.cache.load("k"), "refresh-1");
  assert.equal((await Deno.stat(t.cache.path)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(join(t.cache.path, ".."))).mode! & 0o777, 0o700);
  await t.cache.delete("k");
  assert.equal(await t.cache.load("k"), undefined);
  assert.equal(await new FileTokenCache(t.cache.path).load("other"), "refresh-2");
  const leftovers = [...Deno.readDirSync(join(t.cache.path, ".."))].map((e) => e.name);
  assert.deepEqual(leftovers, ["refresh-tokens.json"], "no temporary files left behind");
});

Deno.test("token cache - a file readable by others is refused", async () => {
  await using t = await tempCache();
  await t.cache.store("k", "refresh-1");
  await Deno.chmod(t.cache.path, 0o644);
  await assert.rejects(t.cache.load("k"), (e) => {
    assert.ok(e instanceof TokenCacheInsecure);
    assert.equal(e.reason, "mode 0644");
    return true;
  });
});

Deno.test("token cache - a file that cannot be read or written is TokenCacheUnusable", async () => {
  await using t = await tempCache();
  // A folder where the file should be: it cannot be read.
  await Deno.mkdir(t.cache.path, { recursive: true, mode: 0o700 });
  await assert.rejects(t.cache.load("k"), (e) => {
    assert.ok(e instanceof TokenCacheUnusable, String(e));
    assert.equal(e.code, "ERR_TOKEN_CACHE_UNUSABLE");
    assert.equal(e.operation, "read");
    assert.ok(e.cause instanceof Error);
    return true;
  });
  // A folder nobody may create (even root, on Linux): nothing to read, and it cannot be written.
  if (Deno.build.os !== "linux") return;
  const blocked = new FileTokenCache("/proc/dedl-dask-test/refresh-tokens.json");
  await assert.rejects(blocked.store("k", "refresh-1"), (e) => {
    assert.ok(e instanceof TokenCacheUnusable, String(e));
    assert.equal(e.operation, "write");
    assert.ok(!e.message.includes("refresh-1"), "the token is not in the message");
    return true;
  });
});

Deno.test("token cache - an unreadable file counts as empty and is replaced on the next store", async () => {
  await using t = await tempCache();
  await t.cache.store("k", "refresh-1");
  await Deno.writeTextFile(t.cache.path, "{ not json");
  assert.equal(await t.cache.load("k"), undefined);
  await t.cache.store("k", "refresh-2");
  assert.equal(await t.cache.load("k"), "refresh-2");
});

Deno.test("token cache - a second run resumes the session without the password; logout forgets it", async () => {
  await using t = await tempCache();
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const options = { issuer: ep.issuer, username: user.username, tokenCache: t.cache };
  const first = await OidcAuth.password({ ...options, password: user.password });
  const key = tokenCacheKey(ep.issuer, ep.client_id, user.username);
  const stored = await t.cache.load(key);
  assert.ok(stored);
  const fileText = await Deno.readTextFile(t.cache.path);
  assert.ok(!fileText.includes(user.password), "the password is not cached");
  assert.ok(!fileText.includes(await first.accessToken()), "the access token is not cached");
  await first[Symbol.asyncDispose](); // with a cache, disposal keeps the session

  const http = new HttpRecorder();
  const noPrompt = () => Promise.reject(new Error("the password was asked for"));
  const second = await OidcAuth.password({ ...options, prompt: noPrompt, fetch: http.fetch });
  assert.equal(second.username, user.username);
  assert.equal(http.grants("password"), 0);
  assert.equal(http.grants("refresh_token"), 1);

  // A password that is given is checked, even with a live session in the cache.
  await assert.rejects(
    OidcAuth.password({ ...options, password: `not-${user.password}` }),
    InvalidCredentials,
  );
  // So is a login that asks not to resume, its password coming from the prompt.
  await assert.rejects(
    OidcAuth.password({ ...options, resume: false, prompt: () => Promise.resolve("wrong") }),
    InvalidCredentials,
  );
  assert.ok(await t.cache.load(key), "a refused login leaves the cached session alone");

  await second.logout();
  assert.equal(await t.cache.load(key), undefined);
  const prompts: string[] = [];
  await using third = await OidcAuth.password({
    ...options,
    prompt: (q) => {
      prompts.push(q);
      return Promise.resolve(user.password);
    },
  });
  assert.equal(prompts.length, 1, "after logout the password is needed again");
  assert.equal(third.username, user.username);
});

Deno.test("token cache - a cached session ended by an administrator falls back to the password", async () => {
  await using t = await tempCache();
  const admin = await KeycloakAdmin.connect(ep);
  await using user = await admin.createUser();
  const options = { issuer: ep.issuer, username: user.username, tokenCache: t.cache };
  await (await OidcAuth.password({ ...options, password: user.password }))[Symbol.asyncDispose]();
  await admin.logoutUser(user.id);
  const http = new HttpRecorder();
  // Asked for only when needed (a password given up front is always checked, never resumed).
  await using auth = await OidcAuth.password({
    ...options,
    prompt: () => Promise.resolve(user.password),
    fetch: http.fetch,
  });
  assert.equal(http.grants("refresh_token"), 1);
  assert.equal(http.grants("password"), 1);
  assert.equal(auth.username, user.username);
});
