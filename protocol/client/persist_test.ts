import assert from "node:assert/strict";
import { PYTHON_ERAS, type PythonEra } from "../../tests/replica/python_env.ts";
import { Client } from "./client.ts";
import { FutureReleased, GraphBuildFailed, RemoteError } from "../errors.ts";
import { type Node, py } from "../graph/py.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { eventually, keysInMemory } from "../testing/scheduler_keys.ts";

const WAIT = { timeoutMs: 120_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/**
 * A random 2-D array in 16 chunks (an xarray DataArray where the environment has xarray): built
 * anew (new values) every time the node runs on a worker, so a later computation that agrees
 * with the kept values read them, not a recomputation.
 */
function randomField(era: PythonEra): Node {
  const array = py.call("dask.array.random.RandomState").method(
    "random_sample",
    py.tuple(40, 40),
    py.kwargs({ chunks: 10 }),
  );
  return hasXarray(era)
    ? py.call("xarray.DataArray", array, py.kwargs({ dims: ["y", "x"], name: "field" }))
    : array;
}

/** DEDL's stack and the newest have xarray; the two protocol-only environments do not. */
function hasXarray(era: PythonEra): boolean {
  return era === "dedl" || era === "current";
}

// Every era: the persisted chunks' keys are strings (2023.8.0) or tuples (later), and the
// rebuilt collection refers to them as WrappedKey (tuple graphs) or TaskRef (task-spec graphs).
for (const era of PYTHON_ERAS) {
  Deno.test(`persist (${era}) - kept collections feed later computations`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 2 });
    await using client = await Client.connect(cluster.address);

    await step(t, "a node is computed once and kept", async () => {
      const node = py.call("numpy.arange", 6).method("sum");
      const kept = await client.persist(node, WAIT);
      assert.equal(kept.status, "finished");
      assert.ok((await keysInMemory(client)).has(kept.key));
      assert.equal(await client.submit("operator.mul", kept, 2).result(WAIT), 30);
      kept.release();
      await eventually(
        "the node's key is freed",
        async () => !(await keysInMemory(client)).has(kept.key),
      );
    });

    await step(
      t,
      "a persisted collection: same values in two later computations, chunks held until released",
      async () => {
        const before = await keysInMemory(client);
        const kept = await client.persist(py.collection(randomField(era)), WAIT);
        // 16 chunks plus the rebuilt collection itself (the graph-building task goes away).
        let held: string[] = [];
        await eventually("only the kept keys are new", async () => {
          held = [...await keysInMemory(client)].filter((k) => !before.has(k));
          return held.length === 17;
        });
        assert.ok(held.includes(kept.key));
        assert.equal(held.filter((k) => /^\('.*', \d+, \d+\)$/.test(k)).length, 16, held.join(" "));

        const total = py.collection(
          hasXarray(era) ? py.ref(kept).method("sum").attr("data") : py.ref(kept).method("sum"),
        );
        const mean = py.collection(
          hasXarray(era)
            ? py.ref(kept).method("mean", "x").attr("data")
            : py.ref(kept).method("mean", py.kwargs({ axis: 1 })),
        );
        const [a, b] = await Promise.all([
          client.computeCollection(total, WAIT),
          client.computeCollection(mean, WAIT),
        ]);
        const [sum, rowMeans] = await client.gather([a, b]);
        const again = await (await client.computeCollection(total, WAIT)).result(WAIT);
        assert.equal(again, sum, "two computations over the kept chunks agree");
        const means = (rowMeans as { toNested(): number[] }).toNested();
        assert.equal(means.length, 40);
        assert.ok(Math.abs(means.reduce((s, m) => s + m * 40, 0) - (sum as number)) < 1e-9);
        // Recomputing the lazy collection makes new random values: the kept ones were read.
        const fresh = await (await client.computeCollection(
          py.collection(
            hasXarray(era)
              ? randomField(era).method("sum").attr("data")
              : randomField(era).method("sum"),
          ),
          WAIT,
        )).result(WAIT);
        assert.notEqual(fresh, sum);

        kept.release();
        a.release();
        b.release();
        await eventually("the chunks are freed", async () => {
          const now = await keysInMemory(client);
          return held.every((k) => !now.has(k));
        });
        await assert.rejects(
          client.computeCollection(py.collection(py.ref(kept).method("sum"))),
          (e) => e instanceof GraphBuildFailed && /does not hold/.test(e.message),
        );
        await assert.rejects(kept.result(), FutureReleased);
      },
    );

    await step(t, "the same result as recomputing, for a dataset-like chain", async () => {
      const array = py.call("dask.array.arange", 1600, py.kwargs({ chunks: 100 }))
        .method("reshape", 40, 40).method("rechunk", 10);
      const field = hasXarray(era)
        ? py.call("xarray.DataArray", array, py.kwargs({ dims: ["y", "x"] }))
        : array;
      const kept = await client.persist(py.collection(field), WAIT);
      const step1 = (n: Node) =>
        hasXarray(era)
          ? n.method("__mul__", 0.5).method("mean", "y").attr("data")
          : n.method("__mul__", 0.5).method("mean", py.kwargs({ axis: 0 }));
      const fromKept = await (await client.computeCollection(py.collection(step1(py.ref(kept)))))
        .result(WAIT);
      const recomputed = await (await client.computeCollection(py.collection(step1(field))))
        .result(WAIT);
      assert.deepEqual(
        (fromKept as { toNested(): number[] }).toNested(),
        (recomputed as { toNested(): number[] }).toNested(),
      );
      kept.release();
    });

    await step(t, "several at once; a failing chunk rejects and keeps nothing", async () => {
      const [n, c] = await client.persist([
        py.call("operator.add", 1, 2),
        py.collection(py.call("dask.array.arange", 10, py.kwargs({ chunks: 5 }))),
      ], WAIT);
      assert.equal(await n.result(WAIT), 3);
      assert.equal(
        await (await client.computeCollection(py.collection(py.ref(c).method("sum")))).result(WAIT),
        45,
      );
      n.release();
      c.release();
      const before = await keysInMemory(client);
      const failing = py.call("dask.array.arange", 10, py.kwargs({ chunks: 5 }))
        .method("map_blocks", py.fn("math.log"), py.kwargs({ dtype: "float64" }));
      await assert.rejects(client.persist(py.collection(failing), WAIT), RemoteError);
      await eventually("nothing of it stays", async () => {
        const now = await keysInMemory(client);
        return [...now].every((k) => before.has(k));
      });
    });
  });
}
