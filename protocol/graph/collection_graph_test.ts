/**
 * `client.computeCollection` against real schedulers of every `update-graph` dialect (2026.8.0:
 * `expr_ser`; 2025.3.0: `graph_frames` of task specs; 2024.8.0 and DEDL's 2023.8.0: tuples),
 * with Python's own client as the reference.
 */
import assert from "node:assert/strict";
import { PYTHON_ERAS } from "../../tests/replica/python_env.ts";
import { Client } from "../client/client.ts";
import { parseCollectionGraph } from "./collection_graph.ts";
import { DaskProtocolError, GraphBuildFailed, RemoteError, TaskCancelled } from "../errors.ts";
import type { Future } from "../client/future.ts";
import { type Collection, type Node, py } from "./py.ts";
import { encodeMessage } from "../codec/message.ts";
import { NDArray } from "../codec/numpy.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { sleepyArray } from "../testing/sleepy_array.ts";
import { pythonCompute } from "../testing/python_compute.ts";
import { chunkTasks } from "../testing/task_stream.ts";
import { fuzzIterations, SeededRandom } from "../testing/seeded_random.ts";
import { schedulerDialect } from "./scheduler_era.ts";
import { prebuiltUpdateGraphMessage } from "./update_graph.ts";

/** Bound on every wait, so a deadlock fails the test instead of hanging it. */
const WAIT = { timeoutMs: 120_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** Polls `check` every 50 ms until it returns true; fails after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** 32 chunks of 2 MB: `(sin(arange(8e6)).reshape(4000, 2000) ** 2).mean(axis=0)`. */
const WAVE_PYTHON =
  `(da.sin(da.arange(0, 8_000_000, chunks=250_000, dtype="float64")).reshape(4000, 2000) ** 2)` +
  `.mean(axis=0)`;
function wave(): Node {
  const x = py.call(
    "dask.array.arange",
    0,
    8_000_000,
    py.kwargs({ chunks: 250_000, dtype: "float64" }),
  );
  return py.call("dask.array.sin", x).method("reshape", 4000, 2000).method("__pow__", 2)
    .method("mean", py.kwargs({ axis: 0 }));
}

/** A chunked array whose chunk `i` is `numpy.load(<dir>/c<i>.npy)` (1000 float64 each). */
function loadedChunks(dir: string, n: number): Node {
  const load = py.call("dask.delayed", py.fn("numpy.load").global, py.kwargs({ pure: true }));
  const chunks = Array.from({ length: n }, (_, i) =>
    py.call(
      "dask.array.from_delayed",
      py.call(load, `${dir}/c${i}.npy`),
      py.tuple(1000),
      py.kwargs({ dtype: "float64" }),
    ));
  return py.call("dask.array.concatenate", chunks);
}

/** Task-stream records of chunk tasks (tuple keys), as `{key, worker}`. */

/** How many tasks that slept (their key names `sleep`) the scheduler saw finish. */
async function sleepsDone(client: Client): Promise<number> {
  const records = await client.rpc("get_task_stream", {}) as Record<string, unknown>[];
  return records.filter((r) => JSON.stringify(r.key).includes("sleep")).length;
}

/** Keys the scheduler holds in memory (`who_has` of every key it knows). */
async function keysInMemory(client: Client): Promise<string[]> {
  const reply = await client.rpc("who_has", { keys: null });
  const entries = reply instanceof Map ? [...reply] : Object.entries(reply as object);
  return entries.filter(([, workers]) => (workers as unknown[]).length > 0).map(([k]) => String(k));
}

async function knownKeys(client: Client): Promise<number> {
  const reply = await client.rpc("who_has", { keys: null });
  return reply instanceof Map ? reply.size : Object.keys(reply as object).length;
}

Deno.test("collection - the builder's answer must be (bytes, string keys)", () => {
  const payload = new Uint8Array([0x80, 5, 0x2e]);
  assert.deepEqual(parseCollectionGraph([payload, [["finalize-x"]]], "b"), {
    payload,
    keys: ["finalize-x"],
  });
  // With the task keys progress reports count: strings and tuples (as arrays).
  assert.deepEqual(parseCollectionGraph([payload, ["f"], ["f", ["x-1", 0, 2]]], "b"), {
    payload,
    keys: ["f"],
    taskKeys: ["f", ["x-1", 0, 2]],
  });
  for (
    const bad of [
      null,
      [payload],
      ["x", ["k"]],
      [payload, []],
      [payload, [["a", 1]]],
      [payload, ["f"], "f"],
      [payload, ["f"], [null]],
      [payload, ["f"], [[]]],
    ]
  ) {
    assert.throws(() => parseCollectionGraph(bad, "b"), DaskProtocolError);
  }
});

Deno.test("collection - fuzz: any decoded builder answer is accepted or a DaskProtocolError", () => {
  const rnd = new SeededRandom(0xc011ec7);
  const value = (depth: number): unknown => {
    switch (rnd.int(depth > 40 ? 4 : 7)) {
      case 0:
        return `k-${rnd.int(5)}`;
      case 1:
        return rnd.int(3);
      case 2:
        return rnd.bytes(rnd.int(8));
      case 3:
        return null;
      case 4:
        return new Map([["a", value(depth + 1)]]);
      default:
        return Array.from({ length: rnd.int(4) }, () => value(depth + 1));
    }
  };
  for (let i = 0; i < fuzzIterations(5_000); i++) {
    const candidate = rnd.int(2) ? [rnd.bytes(4), value(0)] : value(0);
    try {
      const graph = parseCollectionGraph(candidate, "b");
      assert.ok(graph.keys.length > 0 && graph.keys.every((k) => typeof k === "string"));
    } catch (e) {
      assert.ok(e instanceof DaskProtocolError, String(e));
    }
  }
});

Deno.test("collection - the worker's pickle goes out byte for byte in every era", () => {
  const payload = crypto.getRandomValues(new Uint8Array(4096));
  const expr = encodeMessage([
    prebuiltUpdateGraphMessage(schedulerDialect("2026.8.0"), payload, ["k"]),
  ]);
  assert.ok(expr.some((f) => f === payload), "expr_ser frame is the payload itself");
  for (const version of ["2025.3.0", "2024.8.0", "2023.8.0"]) {
    const hlg = prebuiltUpdateGraphMessage(schedulerDialect(version), payload, ["k"]);
    assert.deepEqual(hlg.graph_frames, [payload]);
    assert.deepEqual(hlg.graph_header, { serializer: "pickle", writeable: [] });
    assert.equal("expr_ser" in hlg, false);
    // 2023.8.0's handler drops a client that sends span_metadata; 2024.5.2+ requires it.
    assert.equal("span_metadata" in hlg, version !== "2023.8.0");
  }
});

for (const era of PYTHON_ERAS) {
  Deno.test(`collection - ${era}: chunks spread, result as Python's, keys released`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 2, threadsPerWorker: 1 });
    await using client = await Client.connect(cluster.address);
    const reference =
      (await pythonCompute({ era, address: cluster.address, expression: WAVE_PYTHON }))
        .value as number[];

    await step(t, "the finalised result equals Python's client.compute(...).result()", async () => {
      await client.rpc("get_task_stream", { count: 0 }); // installs the task stream
      const future = await client.computeCollection(py.collection(wave()), WAIT);
      const value = await future.result(WAIT);
      assert.ok(value instanceof NDArray, `got ${value}`);
      assert.deepEqual(value.shape, [2000]);
      assert.deepEqual(Array.from(value.data as Float64Array), reference);

      const tasks = await chunkTasks(client);
      assert.ok(tasks.length >= 32, `the scheduler ran ${tasks.length} chunk tasks`);
      const workers = new Set(tasks.map((r) => r.worker));
      assert.ok(workers.size >= 2, `chunk tasks ran on ${[...workers]}`);

      // Only the output is kept: every chunk and every graph-building key was released.
      assert.deepEqual(await keysInMemory(client), [future.key]);
      future.release();
      await eventually(
        "the scheduler forgot every key",
        async () => (await knownKeys(client)) === 0,
      );
    });

    await step(t, "the same collection computed twice at once gives one result", async () => {
      const [a, b] = await Promise.all([
        client.computeCollection(py.collection(wave()), WAIT),
        client.computeCollection(py.collection(wave()), WAIT),
      ]);
      const [va, vb] = await client.gather([a, b]);
      assert.deepEqual(va, vb);
      a.release();
      b.release();
    });

    await step(t, "a failing chunk is a RemoteError naming that chunk's key", async () => {
      const dir = await Deno.makeTempDir({ prefix: "dedl-collection-" });
      try {
        const python = cluster.python;
        const write = `import numpy as np\nfor i in range(8): np.save(f"${dir}/c{i}.npy", ` +
          `np.arange(i * 1000, (i + 1) * 1000, dtype="float64"))`;
        const out = await new Deno.Command(python, { args: ["-c", write] }).output();
        assert.ok(out.success);
        await Deno.writeTextFile(`${dir}/c5.npy`, "not a numpy file");
        const future = await client.computeCollection(
          py.collection(loadedChunks(dir, 8).method("sum")),
          WAIT,
        );
        await assert.rejects(future.result(WAIT), (e: Error) => {
          assert.ok(e instanceof RemoteError, String(e));
          assert.equal(e.type, "ValueError");
          assert.notEqual(e.key, future.key);
          assert.match(e.key, /^\('[^']+', 5\)$/, `blamed ${e.key}`);
          assert.match(e.message, new RegExp(`task \\('.+', 5\\) failed with ValueError`));
          return true;
        });
        future.release();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await step(t, "cancelling mid-way stops the chunks and releases every key", async () => {
      await eventually("a clean scheduler", async () => (await knownKeys(client)) === 0);
      const before = await sleepsDone(client);
      const future = await client.computeCollection(
        py.collection(sleepyArray(24, 0.4).method("sum")),
        WAIT,
      );
      await eventually(
        "two chunks ran",
        async () => (await sleepsDone(client)) - before >= 2,
        WAIT.timeoutMs,
      );
      await future.cancel();
      const ranAtCancel = (await sleepsDone(client)) - before;
      await assert.rejects(future.result(WAIT), TaskCancelled);
      await eventually(
        "the scheduler forgot every key",
        async () => (await knownKeys(client)) === 0,
      );
      await eventually("no task is processing", async () => {
        const processing = await client.rpc("processing", {});
        const lists = processing instanceof Map ? [...processing.values()] : [];
        return lists.every((l) => (l as unknown[]).length === 0);
      });
      // At most the two chunks running at cancel time (one per worker thread) still finish.
      await new Promise((r) => setTimeout(r, 1_000));
      const ranAfter = (await sleepsDone(client)) - before;
      assert.ok(ranAfter <= ranAtCancel + 2 && ranAfter < 24, `${ranAtCancel} → ${ranAfter}`);
    });

    await step(t, "a node whose value is no collection is refused by the cluster", async () => {
      await assert.rejects(
        client.computeCollection(py.collection(py.call("numpy.arange", 3)), WAIT),
        (e: Error) => e instanceof RemoteError && /__dask_graph__|__dask_/.test(e.message),
      );
      await assert.rejects(
        client.computeCollection(wave() as unknown as Collection),
        GraphBuildFailed,
      );
    });
  });

  Deno.test(`collection - ${era}: one worker with one thread completes`, async () => {
    await using cluster = await LocalCluster.start({ era, workers: 1, threadsPerWorker: 1 });
    await using client = await Client.connect(cluster.address);
    const reference = await pythonCompute({
      era,
      address: cluster.address,
      expression: WAVE_PYTHON,
    });
    let future: Future | undefined;
    try {
      future = await client.computeCollection(py.collection(wave()), WAIT);
      const value = await future.result(WAIT) as NDArray;
      assert.deepEqual(Array.from(value.data as Float64Array), reference.value);
    } finally {
      future?.release();
    }
  });
}
