import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidSiteRegistry } from "./errors.ts";
import {
  DEDL_SITES,
  loadSiteRegistry,
  parseSiteRegistry,
  resolveSiteRegistry,
  SITES_ENV,
} from "./registry.ts";
import { ENDPOINTS_PATH } from "../../tests/replica/endpoints.ts";

Deno.test("site registry - the five DEDL bridges are built in", () => {
  assert.deepEqual(Object.keys(DEDL_SITES).sort(), [
    "central",
    "eumetsat",
    "leonardo",
    "lumi",
    "marenostrum",
  ]);
  assert.equal(DEDL_SITES.lumi.address, "https://dask.lumi.data.destination-earth.eu");
  assert.equal(DEDL_SITES.lumi.proxy_address, "tcp://dask.lumi.data.destination-earth.eu:80");
  assert.deepEqual(DEDL_SITES.central.default_config, { min: 2, max: 10 });
});

Deno.test("site registry - the replica's endpoints file serves as a registry", async () => {
  const registry = await loadSiteRegistry(ENDPOINTS_PATH);
  assert.deepEqual(Object.keys(registry).sort(), ["central", "lumi"]);
  assert.match(registry.central.address, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(registry.lumi.proxy_address!, /^tcp:\/\/127\.0\.0\.1:\d+$/);
});

Deno.test("site registry - loads bridges.json from a URL and from the environment", async () => {
  const bridges = { central: DEDL_SITES.central, lumi: { ...DEDL_SITES.lumi, name: "L" } };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json(bridges),
  );
  const url = `http://127.0.0.1:${server.addr.port}/bridges.json`;
  assert.equal((await loadSiteRegistry(url)).lumi.name, "L");
  Deno.env.set(SITES_ENV, url);
  try {
    assert.deepEqual(Object.keys(await resolveSiteRegistry()), ["central", "lumi"]);
  } finally {
    Deno.env.delete(SITES_ENV);
  }
  assert.equal(Object.keys(await resolveSiteRegistry()).length, 5);
});

Deno.test("site registry - wrong shapes name the site and the field", async () => {
  assert.throws(() => parseSiteRegistry([]), InvalidSiteRegistry);
  assert.throws(
    () => parseSiteRegistry({ x: { address: "dask.example.org" } }),
    /site "x": "address" must be an http\(s\):\/\/ URL/,
  );
  assert.throws(
    () => parseSiteRegistry({ x: { address: "http://a", proxy_address: "http://a:80" } }),
    /"proxy_address" must look like tcp:\/\/host:port/,
  );
  assert.throws(
    () => parseSiteRegistry({ x: { address: "http://a", default_config: { min: 3, max: 2 } } }),
    /"default_config"/,
  );
  const dir = await Deno.makeTempDir();
  try {
    const bad = join(dir, "bridges.json");
    await Deno.writeTextFile(bad, "{not json");
    await assert.rejects(loadSiteRegistry(bad), /is not JSON/);
    await assert.rejects(loadSiteRegistry(join(dir, "missing.json")), /could not read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
