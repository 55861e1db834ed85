/**
 * Lazy collections on the replica's real site clusters: the flood-style workflow (flooded area
 * at central, accumulated rainfall at lumi) on the sites' large datasets, routed by `location`
 * and mixed with plain nodes, checked against Python's own client on the same files.
 */
import assert from "node:assert/strict";
import { CancelledError, type Client, py, RemoteError } from "../../protocol/mod.ts";
import { LocalCluster } from "../../protocol/testing/local_cluster.ts";
import { pythonCompute } from "../../protocol/testing/python_compute.ts";
import { chunkTasks } from "../../protocol/testing/task_stream.ts";
import { readEndpoints } from "../../tests/replica/endpoints.ts";
import { replicaDatasets } from "../../tests/replica/replica.ts";
import { replicaLogin } from "../gateway/testing/replica_login.ts";
import { MultiCluster } from "./multi_cluster.ts";

const ep = await readEndpoints();
const datasets = await replicaDatasets(ep);
/** Bound on every wait, so a deadlock fails the test instead of hanging it. */
const WAIT = { timeoutMs: 300_000 };

/** `flood_map.sum() * 20 * 20 / 1000` of the notebook, as a numpy value (`.data`). */
function floodArea(path: string) {
  const flood = py.call("xarray.open_zarr", path, py.kwargs({ consolidated: false })).item("flood");
  return py.collection(
    flood.method("sum").method("__mul__", 20).method("__mul__", 20).method("__truediv__", 1000)
      .attr("data"),
  ).withAttrs({ location: "central" });
}
const floodAreaPython = (path: string) =>
  `(xr.open_zarr("${path}", consolidated=False)["flood"].sum() * 20 * 20 / 1000).data`;

/** Rainfall accumulated over time, averaged over the area (mm). */
function accumulatedRain(path: string) {
  const rain = py.call("xarray.open_zarr", path, py.kwargs({ consolidated: false }))
    .item("precipitation");
  return py.collection(rain.method("sum", "time").method("mean").attr("data"))
    .withAttrs({ location: "lumi" });
}
const accumulatedRainPython = (path: string) =>
  `xr.open_zarr("${path}", consolidated=False)["precipitation"].sum("time").mean().data`;

let references: Promise<{ flood: unknown; rain: unknown }> | undefined;
/** Python's `client.compute(...).result()` of both, on a local cluster over the same files. */
function pythonReferences(): Promise<{ flood: unknown; rain: unknown }> {
  references ??= (async () => {
    await using cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1 });
    const run = async (expression: string) =>
      (await pythonCompute({ address: cluster.address, expression })).value;
    return {
      flood: await run(floodAreaPython(datasets.central.flood)),
      rain: await run(accumulatedRainPython(datasets.lumi.precipitation)),
    };
  })();
  return references;
}

async function knownKeys(client: Client): Promise<number> {
  const reply = await client.rpc("who_has", { keys: null });
  return reply instanceof Map ? reply.size : Object.keys(reply as object).length;
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("multicluster collections - flood at central, rain at lumi, as Python computes them", async () => {
  const expected = pythonReferences();
  await using auth = await replicaLogin(0);
  const mc = await MultiCluster.connect({ auth, sites: ep.sites, handleSignals: false });
  try {
    const outcomes = await mc.newCluster({ worker_cores: 1, worker_memory: 2 }, {
      adapt: { minimum: 2, maximum: 2 },
    });
    for (const o of outcomes) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
    for (const site of ["central", "lumi"]) {
      const { cluster, client } = mc.site(site);
      await cluster.waitForWorkers(2, WAIT);
      await client.rpc("get_task_stream", { count: 0 }); // installs the task stream
    }

    const results = await mc.computeAll([
      floodArea(datasets.central.flood),
      accumulatedRain(datasets.lumi.precipitation),
      py.call("os.getenv", "DEDL_SITE").withAttrs({ location: "lumi" }),
    ], WAIT);
    for (const r of results) assert.ok(r.ok, !r.ok ? r.error.message : "");
    assert.deepEqual(results.map((r) => r.site), ["central", "lumi", "lumi"]);
    const [flood, rain, plain] = results.map((r) => r.ok && r.value);
    const reference = await expected;
    assert.equal(typeof flood, "number");
    assert.ok((flood as number) > 0 && (rain as number) > 0, `${flood} ${rain}`);
    assert.equal(flood, reference.flood);
    assert.equal(rain, reference.rain);
    assert.equal(plain, "lumi");

    for (const site of ["central", "lumi"]) {
      const { client } = mc.site(site);
      const tasks = await chunkTasks(client);
      assert.ok(tasks.length >= 128, `${site} ran ${tasks.length} chunk tasks`);
      const workers = new Set(tasks.map((t) => t.worker));
      assert.ok(workers.size >= 2, `${site}: chunk tasks ran on ${[...workers]}`);
      // computeAll released its results: the scheduler holds no key of these computations.
      await eventually(`${site} forgot every key`, async () => (await knownKeys(client)) === 0);
    }
  } finally {
    for (const o of await mc.shutdown()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  }
});

Deno.test("multicluster collections - one worker with one thread: completes, fails, cancels", async (t) => {
  const expected = pythonReferences();
  await using auth = await replicaLogin(0);
  const mc = await MultiCluster.connect({
    auth,
    sites: ep.sites,
    only: ["central"],
    handleSignals: false,
  });
  const steps = { sanitizeOps: false, sanitizeResources: false };
  try {
    const [outcome] = await mc.newCluster({ worker_cores: 1, worker_memory: 2 }, {
      adapt: { minimum: 1, maximum: 1 },
    });
    assert.ok(outcome.ok, !outcome.ok ? outcome.error.message : "");
    const { cluster, client } = mc.site("central");
    await cluster.waitForWorkers(1, WAIT);
    const info = await client.identity();
    assert.deepEqual(Object.values(info.workers).map((w) => w.nthreads), [1]);

    await t.step({
      name: "the flooded area is computed without deadlock",
      ...steps,
      fn: async () => {
        assert.equal(
          await mc.compute(floodArea(datasets.central.flood), WAIT),
          (await expected).flood,
        );
      },
    });

    await t.step({
      name: "a corrupted chunk file surfaces as RemoteError naming that chunk's key",
      ...steps,
      fn: async () => {
        const copy = await Deno.makeTempDir({ prefix: "dedl-flood-copy-" });
        try {
          // A copy by hard links (no 1 GB write); the corrupted chunk is a new file.
          const store = `${copy}/flood.zarr`;
          const cp = await new Deno.Command("cp", { args: ["-al", datasets.central.flood, store] })
            .output();
          assert.ok(cp.success, new TextDecoder().decode(cp.stderr));
          const chunk = `${store}/flood/3.1.2`; // Zarr v2: time block 3, y block 1, x block 2
          await Deno.remove(chunk);
          await Deno.writeTextFile(chunk, "not float32 data");
          await assert.rejects(mc.compute(floodArea(store), WAIT), (e: Error) => {
            assert.ok(e instanceof RemoteError, String(e));
            assert.match(e.key, /^\('[^']+', 3, 1, 2\)$/, `blamed ${e.key}`);
            assert.equal(e.type, "ValueError");
            return true;
          });
        } finally {
          await Deno.remove(copy, { recursive: true });
        }
        await eventually(
          "the scheduler forgot every key",
          async () => (await knownKeys(client)) === 0,
        );
      },
    });

    await t.step({
      name: "cancelling mid-way stops the chunks and releases every key",
      ...steps,
      fn: async () => {
        await client.rpc("get_task_stream", { count: 0 });
        const before = (await chunkTasks(client)).length;
        const future = await client.computeCollection(floodArea(datasets.central.flood), WAIT);
        await eventually(
          "three chunk tasks ran",
          async () => (await chunkTasks(client)).length - before >= 3,
        );
        await future.cancel();
        const ranAtCancel = (await chunkTasks(client)).length - before;
        await assert.rejects(future.result(WAIT), CancelledError);
        await eventually(
          "the scheduler forgot every key",
          async () => (await knownKeys(client)) === 0,
        );
        await new Promise((r) => setTimeout(r, 1_000));
        const ranAfter = (await chunkTasks(client)).length - before;
        // One thread: at most the chunk running at cancel time still finishes (of 128+).
        assert.ok(ranAfter <= ranAtCancel + 1, `${ranAtCancel} → ${ranAfter}`);
      },
    });
  } finally {
    for (const o of await mc.shutdown()) assert.ok(o.ok, `${o.site}: ${!o.ok && o.error.message}`);
  }
});
