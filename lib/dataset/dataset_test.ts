/**
 * openDataset against real stores — Zarr v2 consolidated and not, Zarr v3 consolidated and not,
 * read from files, by HTTP URL and by s3:// URL from a real S3-compatible server (S3Proxy), and
 * the replica sites' own object stores — compared with what Python's xarray reports for the same
 * stores; and each failure a clear, typed error.
 */
import assert from "node:assert/strict";
import type { NDArray } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { freePort } from "../../tests/replica/process.ts";
import type { Coordinate, Dataset } from "./dataset.ts";
import { openDataset } from "./dataset.ts";
import {
  InvalidExpression,
  InvalidStoreUrl,
  StoreNotFound,
  StoreUnreachable,
  UnknownVariable,
} from "./errors.ts";
import {
  referenceArray,
  type ReferenceDataset,
  type ReferenceVariable,
  xarrayDescribe,
} from "./testing/xarray_reference.ts";
import { pythonsWithZarr3, TestStores } from "./testing/test_stores.ts";

const ep = await readEndpoints();

/** Asserts that a dataset matches xarray's description of the same store. */
function assertLikeXarray(ds: Dataset, ref: ReferenceDataset, what: string): void {
  assert.deepEqual(ds.attrs, ref.attrs, `${what}: attrs`);
  assert.deepEqual(Object.keys(ds.variables).sort(), Object.keys(ref.variables).sort(), what);
  assert.deepEqual(Object.keys(ds.coords).sort(), Object.keys(ref.coords).sort(), what);
  for (const [name, r] of Object.entries(ref.variables)) {
    assertVariable(ds.variables[name], r, `${what}: ${name}`);
  }
  for (const [name, r] of Object.entries(ref.coords)) {
    const c = ds.coords[name];
    assertVariable(c, r, `${what}: coordinate ${name}`);
    if (r.values) assertValues(c, r, `${what}: values of ${name}`);
  }
}

function assertVariable(v: Coordinate, r: ReferenceVariable, what: string): void {
  assert.ok(v, `${what}: missing`);
  assert.deepEqual(
    { dims: v.dims, shape: v.shape, dtype: v.dtype, chunks: v.chunks, attrs: v.attrs },
    { dims: r.dims, shape: r.shape, dtype: r.dtype, chunks: r.chunks, attrs: r.attrs },
    what,
  );
}

function assertValues(c: Coordinate, r: ReferenceVariable, what: string): void {
  const expected = referenceArray(r.values!);
  assert.ok(c.values, `${what}: not decoded`);
  if (Array.isArray(c.values)) {
    const ns = (c.values as Date[]).map((d) => BigInt(d.getTime()) * 1_000_000n);
    assert.deepEqual(ns, expected.toNested(), what);
  } else {
    const values = c.values as NDArray;
    assert.equal(values.dtype, expected.dtype, what);
    assert.deepEqual(values.toNested(), expected.toNested(), what);
  }
}

Deno.test("openDataset - the replica sites' stores by URL, as xarray reports them", async () => {
  for (const [site, s] of Object.entries(ep.sites)) {
    for (const [name, url] of Object.entries(s.dataset_urls!)) {
      const ds = await openDataset(url);
      assert.equal(ds.location, site, `${name} at ${site}`);
      assert.equal(ds.zarrFormat, 2);
      assert.equal(ds.consolidated, true);
      assert.equal(typeof ds.attrs.resolution, "string");
      assertLikeXarray(ds, await xarrayDescribe(ep.python, url), `${site} ${name}`);
    }
  }
  const flood = await openDataset(ep.sites.central.dataset_urls!.flood);
  assert.deepEqual(flood.variables.flood.dims, ["time", "y", "x"]);
  assert.deepEqual(flood.dims, { time: 16, y: 4096, x: 4096 });
  assert.deepEqual(
    (flood.coords.time.values as Date[]).slice(0, 2).map((d) => d.toISOString()),
    ["2022-08-20T00:00:00.000Z", "2022-08-21T00:00:00.000Z"],
  );
  const rain = await openDataset(ep.sites.lumi.dataset_urls!.precipitation);
  assert.deepEqual(rain.variables.precipitation.dims, ["time", "lat", "lon"]);
});

Deno.test("openDataset - v2 and v3 stores, consolidated or not, from files, http:// and s3://", async () => {
  await using stores = await TestStores.create();
  const zarr3 = await pythonsWithZarr3();
  assert.ok(
    zarr3.length > 0 && stores.names.includes("v3_plain.zarr"),
    "no replica Python has zarr >= 3, so no Zarr v3 store could be written",
  );
  for (const name of stores.names) {
    const reference = await xarrayDescribe(zarr3[0], stores.path(name));
    const forms = [
      stores.path(name),
      `file://${stores.path(name)}`,
      stores.url(name),
      `s3://datasets/${name}`,
    ];
    for (const form of forms) {
      const ds = await openDataset(form, { endpoint: stores.endpoint });
      assertLikeXarray(ds, reference, `${name} as ${form}`);
      assert.equal(ds.zarrFormat, name.startsWith("v3") ? 3 : 2, form);
      assert.equal(ds.consolidated, !name.includes("plain"), form);
    }
  }
  // What xarray hides or changes, checked explicitly once (the comparison above covers all).
  const ds = await openDataset(stores.url("v2_plain.zarr"));
  assert.equal(ds.variables.quality.dtype, "float32"); // int16 with a fill value: masked
  assert.equal(ds.variables.wind.dtype, "float64"); // packed
  assert.equal(ds.variables.wind.attrs.scale_factor, undefined);
  assert.equal(ds.coords.height.values, undefined); // 0-d: described, not decoded
  assert.equal(ds.coords.time.dtype, "datetime64[ns]");
  assert.equal((ds.coords.time.values as Date[])[1].toISOString(), "2022-08-20T07:00:00.000Z");
  assert.equal(ds.location, "central");
  assert.equal((await openDataset(stores.url("no_location.zarr"))).location, undefined);
});

Deno.test("openDataset - unknown variable, missing store, unreachable store, bad URLs", async (t) => {
  const url = ep.sites.central.dataset_urls!.flood;
  await t.step("unknown variable names the store and what it has", async () => {
    const ds = await openDataset(url);
    assert.throws(() => ds.var("precipitation"), (e: Error) => {
      assert.ok(e instanceof UnknownVariable);
      assert.match(e.message, /flood\.zarr has no variable "precipitation"; it has: flood, time/);
      return true;
    });
  });
  await t.step("a dimension coordinate is no expression: its values are here", async () => {
    const ds = await openDataset(url);
    assert.throws(() => ds.var("time"), (e: Error) => {
      assert.ok(e instanceof InvalidExpression);
      assert.match(e.message, /time is a dimension coordinate of .*; its values are read here/);
      return true;
    });
  });
  await t.step("no store at the URL", async () => {
    const missing = `${ep.sites.central.store}/datasets/nothing-here.zarr`;
    await assert.rejects(openDataset(missing), (e: Error) => {
      assert.ok(e instanceof StoreNotFound);
      assert.match(e.message, /no Zarr dataset at .*nothing-here\.zarr: found none of/);
      return true;
    });
    const folder = await Deno.makeTempDir();
    try {
      await assert.rejects(openDataset(folder), StoreNotFound);
    } finally {
      await Deno.remove(folder);
    }
  });
  await t.step("nothing listens at the URL", async () => {
    const dead = `http://127.0.0.1:${freePort()}/datasets/flood.zarr`;
    await assert.rejects(openDataset(dead), (e: Error) => {
      assert.ok(e instanceof StoreUnreachable, String(e));
      assert.match(
        e.message,
        /the Zarr store http:\/\/127\.0\.0\.1:\d+\/datasets\/flood\.zarr is unreachable: reading \.zmetadata failed/,
      );
      return true;
    });
  });
  await t.step("a server that never answers: timeout", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    try {
      const { port } = listener.addr as Deno.NetAddr;
      await assert.rejects(
        openDataset(`http://127.0.0.1:${port}/x.zarr`, { timeoutMs: 300 }),
        /unreachable: no answer within 300 ms reading \.zmetadata/,
      );
    } finally {
      listener.close();
      for (const c of held) c.close();
      await accepting.catch(() => {});
    }
  });
  await t.step("URLs that cannot be used", async () => {
    await assert.rejects(openDataset("s3://bucket/flood.zarr"), (e: Error) => {
      assert.ok(e instanceof InvalidStoreUrl);
      assert.match(e.message, /needs the object store's endpoint/);
      return true;
    });
    await assert.rejects(openDataset("gs://bucket/x.zarr"), /gs:\/\/ is not supported/);
    await assert.rejects(openDataset("https://host/x.zarr?token=1"), /no query string/);
  });
});

Deno.test("openDataset - metadata only: no chunk of a data variable is read", async () => {
  const requested: string[] = [];
  const counting: typeof fetch = (input, init) => {
    requested.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  const url = ep.sites.central.dataset_urls!.flood;
  await openDataset(url, { fetch: counting });
  const keys = requested.map((r) => r.slice(url.length + 1)).sort();
  assert.deepEqual(keys, [".zmetadata", "time/0", "x/0", "y/0", "zarr.json"]);
});
