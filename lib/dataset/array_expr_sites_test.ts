/**
 * Dataset expressions on the replica's real site clusters, read from the sites' real object
 * stores: the steps of DEDL's Pakistan-flood notebook, routed by each dataset's own `location`
 * (no site named anywhere), equal what Python's xarray/dask computes on the same stores; routing
 * overrides; a dataset without location; a failing step; a quick-look of a real result.
 */
import assert from "node:assert/strict";
import { decode } from "npm:fast-png@8.0.0";
import { type NDArray, py, RemoteError } from "../../protocol/mod.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { replicaLogin } from "../gateway/testing/replica_login.ts";
import { MissingLocation, MultiCluster } from "../multicluster/mod.ts";
import type { ComputedArray } from "./computed_array.ts";
import { openDataset } from "./dataset.ts";
import { quickLookPng } from "./quick_look.ts";
import { TestStores } from "./testing/test_stores.ts";
import { referenceArray, type ReferenceResult, xarrayCompute } from "./testing/xarray_reference.ts";
import { chunkTasks } from "../../protocol/testing/task_stream.ts";

const ep = await readEndpoints();
const FLOOD = ep.sites.central.dataset_urls!.flood;
const RAIN = ep.sites.lumi.dataset_urls!.precipitation;
/** Bound on every wait, so that a deadlock fails the test instead of hanging it. */
const WAIT = { timeoutMs: 300_000 };

/** The notebook's steps in Python, on the same URLs: the reference. */
const PYTHON = {
  area: 'xr.open_zarr(FLOOD)["flood"].sum() * 20 * 20 / 1000',
  map: '(xr.open_zarr(FLOOD)["flood"].isel(time=-1).coarsen(x=25, y=25, boundary="trim")' +
    '.median() > 0).astype("float32")',
  rain: '(xr.open_zarr(RAIN)["precipitation"].sel(lat=slice(31, 23), lon=slice(65, 71))' +
    '.cumsum("time") * 1000).isel(time=-1)',
};

function assertLikeReference(result: ComputedArray, ref: ReferenceResult, what: string): void {
  assert.equal(result.name, ref.name, `${what}: name`);
  assert.deepEqual(result.dims, ref.dims, `${what}: dims`);
  assertSameArray(result.values, referenceArray(ref.values), `${what}: values`);
  assert.deepEqual(Object.keys(result.coords).sort(), Object.keys(ref.coords).sort(), what);
  for (const [name, c] of Object.entries(ref.coords)) {
    const mine = result.coords[name];
    assert.deepEqual(mine.dims, c.dims, `${what}: dims of ${name}`);
    const expected = referenceArray(c.values);
    if (Array.isArray(mine.values)) {
      const ns = (mine.values as Date[]).map((d) => BigInt(d.getTime()) * 1_000_000n);
      assert.deepEqual(ns, [expected.toNested()].flat(), `${what}: ${name}`);
    } else {
      assertSameArray(mine.values as NDArray, expected, `${what}: ${name}`);
    }
  }
}

function assertSameArray(actual: NDArray, expected: NDArray, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.deepEqual(actual.toNested(), expected.toNested(), what);
}

async function startClusters(mc: MultiCluster): Promise<void> {
  const outcomes = await mc.newCluster({ worker_cores: 1, worker_memory: 2 }, {
    adapt: { minimum: 2, maximum: 2 },
  });
  for (const o of outcomes) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  for (const site of ["central", "lumi"]) {
    const { cluster, client } = mc.site(site);
    await cluster.waitForWorkers(2, WAIT);
    await client.rpc("get_task_stream", { count: 0 }); // installs the task stream
  }
}

Deno.test("dataset expressions - the Pakistan-flood steps at their sites equal Python's xarray", async () => {
  const reference = xarrayCompute(ep.python, PYTHON, { FLOOD, RAIN });
  await using auth = await replicaLogin(0);
  const mc = await MultiCluster.connect({ auth, sites: ep.sites, handleSignals: false });
  try {
    await startClusters(mc);
    const flood = (await openDataset(FLOOD)).var("flood");
    const rain = (await openDataset(RAIN)).var("precipitation");
    const area = flood.sum().mul(20).mul(20).div(1000);
    const map = flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" })
      .median().gt(0).astype("float32");
    const accumulated = rain.sel({ lat: py.slice(31, 23), lon: py.slice(65, 71) })
      .cumsum("time").mul(1000).isel({ time: -1 });
    assert.deepEqual([area.dims, map.dims, accumulated.dims], [[], ["y", "x"], ["lat", "lon"]]);
    assert.deepEqual(map.shape, [163, 163]);

    const outcomes = await mc.computeAll([area, map, accumulated], WAIT);
    for (const o of outcomes) assert.ok(o.ok, !o.ok ? o.error.message : "");
    assert.deepEqual(outcomes.map((o) => o.site), ["central", "central", "lumi"]);
    const [a, m, r] = outcomes.map((o) => o.ok ? o.value : undefined);
    const ref = await reference;

    assert.equal(typeof a, "number");
    assert.ok((a as number) > 0);
    assert.deepEqual([], ref.area.dims);
    assert.equal(a, referenceArray(ref.area.values).get());
    assertLikeReference(m as ComputedArray, ref.map, "flood map");
    assertLikeReference(r as ComputedArray, ref.rain, "accumulated rain");
    assert.equal((m as ComputedArray).values.dtype, "<f4");
    assert.deepEqual(
      ((r as ComputedArray).coords.time.values as Date[]).map((d) => d.toISOString()),
      ["2022-08-22T15:00:00.000Z"], // the last of 64 hourly steps from 2022-08-20T00
    );

    // Every chunk ran as a task of the site's scheduler, spread over its workers.
    const chunks = await chunkTasks(mc.site("central").client);
    assert.ok(chunks.length >= 128, `central ran ${chunks.length} chunk tasks`);
    assert.ok(new Set(chunks.map((t) => t.worker)).size >= 2, "chunks ran on one worker");
  } finally {
    for (const o of await mc.shutdown()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  }
});

Deno.test("dataset expressions - routing overrides, no location, failing step, quick-look", async (t) => {
  await using stores = await TestStores.create(ep.python);
  await using auth = await replicaLogin(1);
  const mc = await MultiCluster.connect({ auth, sites: ep.sites, handleSignals: false });
  try {
    await startClusters(mc);
    const temperature = (await openDataset(ep.sites.central.dataset_urls!.temperature)).var("t2m");
    // The site a computation ran at, as an attribute of its result.
    const where = temperature.mean("time").call(
      "assign_attrs",
      py.kwargs({ computed_at: py.call("os.getenv", "DEDL_SITE") }),
    );

    await t.step(
      "the dataset's location routes; withAttrs and options.site override it",
      async () => {
        const at = async (p: Promise<unknown>) => ((await p) as ComputedArray).attrs.computed_at;
        assert.equal(await at(mc.compute(where, WAIT)), "central");
        assert.equal(await at(mc.compute(where.withAttrs({ location: "lumi" }), WAIT)), "lumi");
        assert.equal(await at(mc.compute(where, { ...WAIT, site: "lumi" })), "lumi");
      },
    );

    await t.step(
      "resample, groupby, nearest labels, where, std, squeeze… equal xarray's",
      async () => {
        const T = ep.sites.central.dataset_urls!.temperature;
        const t2m = temperature;
        const steps = {
          resample: [t2m.resample({ time: "1W" }).mean(), 'T.resample(time="1W").mean()'],
          groupby: [t2m.groupby("time.dayofweek").max(), 'T.groupby("time.dayofweek").max()'],
          nearest: [
            t2m.sel({ lat: 30.2, lon: 65.3 }, { method: "nearest" }),
            'T.sel(lat=30.2, lon=65.3, method="nearest")',
          ],
          where: [t2m.where(t2m.gt(290)).count("time"), 'T.where(T > 290).count("time")'],
          std: [t2m.std("time", { ddof: 1 }).rename("sd"), 'T.std("time", ddof=1).rename("sd")'],
          squeeze: [
            t2m.isel({ time: py.slice(0, 1) }).squeeze().sub(273.15).pow(2),
            "(T.isel(time=slice(0, 1)).squeeze() - 273.15) ** 2",
          ],
          dates: [
            t2m.sel({ time: py.slice("2024-01-03", "2024-01-05") }).mean(["lat", "lon"]),
            'T.sel(time=slice("2024-01-03", "2024-01-05")).mean(["lat", "lon"])',
          ],
          coarsen: [
            t2m.coarsen({ lat: 3, lon: 3 }).max().cumsum("lat"),
            'T.coarsen(lat=3, lon=3).max().cumsum("lat")',
          ],
        } as const;
        const python = Object.fromEntries(
          Object.entries(steps).map((
            [k, [, code]],
          ) => [k, code.replace(/\bT\b/g, 'xr.open_zarr(URL)["t2m"]')]),
        );
        const reference = xarrayCompute(ep.python, python, { URL: T });
        const outcomes = await mc.computeAll(Object.values(steps).map(([expr]) => expr), WAIT);
        const ref = await reference;
        Object.keys(steps).forEach((name, i) => {
          const o = outcomes[i];
          assert.ok(o.ok, `${name}: ${!o.ok && o.error.message}`);
          assert.equal(o.site, "central");
          assertLikeReference(o.value as ComputedArray, ref[name], name);
        });
      },
    );

    await t.step("a dataset without location: MissingLocation naming it", async () => {
      const ds = await openDataset(stores.path("no_location.zarr"));
      const mean = ds.var("t2m").mean();
      await assert.rejects(mc.compute(mean), (e: Error) => {
        assert.ok(e instanceof MissingLocation);
        assert.match(e.message, /^t2m of \/.*no_location\.zarr has no "location" attribute/);
        assert.match(e.message, /known sites: central, lumi/);
        return true;
      });
      // With a site it computes, and equals numpy's mean of the same values.
      const value = await mc.compute(mean, { ...WAIT, site: "central" });
      const ref = await xarrayCompute(ep.python, {
        mean: `xr.open_zarr("${stores.path("no_location.zarr")}")["t2m"].mean()`,
      });
      assert.equal(value, referenceArray(ref.mean.values).get());
    });

    await t.step("a step that fails on the cluster rejects with the cluster's error", async () => {
      const missing = temperature.sel({ time: new Date("2030-01-01T00:00:00Z") });
      await assert.rejects(mc.compute(missing, WAIT), (e: Error) => {
        assert.ok(e instanceof RemoteError, String(e));
        assert.match(e.message, /KeyError/);
        return true;
      });
    });

    await t.step("a 2-D result as a PNG quick-look, NaN transparent", async () => {
      const flood = (await openDataset(FLOOD)).var("flood").isel({ time: -1 })
        .coarsen({ x: 64, y: 64 }).mean();
      const masked = flood.where(flood.gt(0)); // NaN where nothing flooded
      const map = await mc.compute(masked, WAIT) as ComputedArray;
      const png = decode(await quickLookPng(map, { colorMap: "blues" }));
      assert.deepEqual([png.width, png.height, png.channels], [64, 64, 4]);
      const values = (map.values.toNested() as number[][]).flat();
      const nan = values.filter((v) => Number.isNaN(v)).length;
      assert.ok(nan > 0 && nan < values.length, `${nan} of ${values.length} NaN`);
      let transparent = 0;
      for (let i = 3; i < png.data.length; i += 4) if (png.data[i] === 0) transparent++;
      assert.equal(transparent, nan);
    });
  } finally {
    for (const o of await mc.shutdown()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  }
});
