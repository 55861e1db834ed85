import assert from "node:assert/strict";
import {
  pinnedDistributed,
  pinnedVersion,
  PYTHON_ERAS,
  pythonEnv,
  type PythonEra,
  pythonOverlay,
} from "../../tests/replica/python_env.ts";
import { Client } from "./client.ts";
import { type ClientWarning, VersionMismatchWarning } from "./client_warning.ts";
import {
  ClientClosed,
  ConnectionLost,
  ConnectionRefused,
  FutureReleased,
  GraphBuildFailed,
  HandshakeFailed,
  RemoteError,
  RemoteSerializationFailed,
  RequestTimeout,
  TaskCancelled,
  TlsHandshakeFailed,
  UnsupportedSchedulerVersion,
} from "../errors.ts";
import { Comm } from "../connection/comm.ts";
import { DenoConnTransport } from "../connection/deno_conn_transport.ts";
import { type Node, py } from "../graph/py.ts";
import { NDArray } from "../codec/numpy.ts";
import { PyFloat } from "../codec/pickle/python_values.ts";
import { Serialized } from "../codec/serialize.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { makeTlsKeypair } from "../testing/tls_keypair.ts";

/** Bound on every wait in these tests, so a bug fails the test instead of hanging it. */
const WAIT = { timeoutMs: 60_000 };

/** Steps share one cluster and client, so resources legitimately outlive a step. */
function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

async function taskState(client: Client, key: string): Promise<unknown> {
  const reply = await client.rpc("get_task_status", { keys: [key] }) as Record<string, unknown>;
  return reply[key] ?? null;
}

/** Polls `check` every 50 ms until it returns true; fails after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** Arrays computed both by our graphs and by Python directly. */
const NUMPY_CASES: Array<[string, () => Node, string]> = [
  [
    "2-D float64",
    () => py.call("numpy.arange", 12.0).method("reshape", 3, 4).method("__truediv__", 7),
    "numpy.arange(12.0).reshape(3, 4) / 7",
  ],
  [
    "int32",
    () => py.call("numpy.arange", -5, 7, py.kwargs({ dtype: "int32" })).method("reshape", 2, 6),
    "numpy.arange(-5, 7, dtype='int32').reshape(2, 6)",
  ],
  [
    "bool",
    () => py.call("numpy.greater", py.call("numpy.arange", 10).method("reshape", 2, 5), 4),
    "numpy.arange(10).reshape(2, 5) > 4",
  ],
  [
    "F-order",
    () =>
      py.call(
        "numpy.asfortranarray",
        py.call("numpy.arange", 6).method("__add__", 0.5).method("reshape", 2, 3),
      ),
    "numpy.asfortranarray((numpy.arange(6) + 0.5).reshape(2, 3))",
  ],
  [
    "transposed int64",
    () => py.call("numpy.arange", 24).method("reshape", 2, 3, 4).attr("T"),
    "numpy.arange(24).reshape(2, 3, 4).T",
  ],
];

async function pythonArrays(era: PythonEra) {
  const script = `
import json, numpy
out = []
for expr in json.loads(input()):
    a = eval(expr)
    out.append({"dtype": a.dtype.str, "shape": list(a.shape), "values": a.tolist(),
                "f": bool(a.flags.f_contiguous and not a.flags.c_contiguous)})
print(json.dumps(out))
`;
  const child = new Deno.Command(await pythonEnv(era), {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(NUMPY_CASES.map((c) => c[2])) + "\n"));
  await w.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as Array<
    { dtype: string; shape: number[]; values: unknown; f: boolean }
  >;
}

/** The `update-graph` dialect each environment's scheduler speaks. */
const GRAPH_ERA = { dedl: "tuple", "2024.8": "tuple", "2025.3": "hlg", current: "expr" } as const;

for (const era of PYTHON_ERAS) {
  Deno.test(`client (${era}) - against a real scheduler`, async (t) => {
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address);

    await step(t, "identity reports versions and workers", async () => {
      const info = await client.identity();
      assert.equal(info.type, "Scheduler");
      assert.equal(info.address, cluster.address);
      assert.equal(info.versions.distributed, await pinnedDistributed(era));
      assert.equal(Object.keys(info.workers).length, 1);
      assert.equal(Object.values(info.workers)[0].nthreads, 2);
      assert.equal(client.dialect.era, GRAPH_ERA[era]);
    });

    await step(t, "dependency chain", async () => {
      let node = py.call("operator.add", 0, 1);
      for (let i = 0; i < 30; i++) node = py.call("operator.add", node, 1);
      assert.equal(await client.compute(node).result(WAIT), 31);
      // Futures as arguments reference keys already on the cluster.
      const a = client.submit("operator.add", 1, 2);
      const b = client.submit("operator.mul", a, 10);
      const c = client.submit(py.fn("builtins.sum"), [a, b, py.call("operator.neg", a)]);
      assert.deepEqual(await client.gather([a, b, c]), [3, 30, 30]);
    });

    await step(t, "10k-task map and sum", async () => {
      const n = 10_000;
      const futures = client.map("operator.neg", Array.from({ length: n }, (_, i) => i));
      const total = client.submit("builtins.sum", futures);
      assert.equal(await total.result(WAIT), -(n * (n - 1)) / 2);
      const values = await client.gather(futures);
      assert.equal(values.length, n);
      assert.equal(values[1234], -1234);
      for (const f of [...futures, total]) f.release();
    });

    await step(t, "numpy results equal Python's", async () => {
      const expected = await pythonArrays(era);
      const arrays = await client.gather(NUMPY_CASES.map(([, build]) => client.compute(build())));
      arrays.forEach((arr, i) => {
        const name = NUMPY_CASES[i][0];
        assert.ok(arr instanceof NDArray, name);
        assert.equal(arr.dtype, expected[i].dtype, name);
        assert.deepEqual(arr.shape, expected[i].shape, name);
        assert.deepEqual(plain(arr.toNested()), expected[i].values, name);
        assert.equal(arr.order === "F", expected[i].f, name);
      });
    });

    await step(t, "scatter a Float64Array then numpy.sum", async () => {
      const data = Float64Array.from({ length: 1000 }, (_, i) => i * 0.25);
      const [x] = await client.scatter([data]);
      assert.equal(x.status, "finished");
      const sum = client.submit("numpy.sum", x);
      const dtype = client.compute(py.call("builtins.getattr", x, "dtype").attr("str"));
      assert.deepEqual(await client.gather([sum, dtype]), [data.reduce((a, b) => a + b), "<f8"]);
      const [bytes, list] = await client.scatter([new Uint8Array([1, 2, 3]), [1, 2, 3]]);
      const kind = client.compute(py.call("builtins.type", bytes).attr("__name__"));
      assert.deepEqual(await client.gather([client.submit("builtins.len", bytes), kind]), [
        3,
        "bytes",
      ]);
      assert.equal(await client.submit("builtins.sum", list).result(WAIT), 6);
    });

    await step(t, "kwargs, including a computed one", async () => {
      const sorted = client.submit("builtins.sorted", [3, 1, 2], py.kwargs({ reverse: true }));
      assert.deepEqual(await sorted.result(WAIT), [3, 2, 1]);
      const matrix = py.call("numpy.arange", 6).method("reshape", 2, 3);
      const axis = py.call("operator.add", 0, 1);
      const rows = client.compute(
        py.call("numpy.sum", matrix, py.kwargs({ axis })).method("tolist"),
      );
      assert.deepEqual(await rows.result(WAIT), [3, 12]);
    });

    await step(t, "results: collections, dicts, strings, None", async () => {
      const parts = await client.submit("numpy.split", py.call("numpy.arange", 6), 3).result(WAIT);
      assert.ok(Array.isArray(parts) && parts.length === 3);
      assert.deepEqual(parts.map((p) => plain((p as NDArray).toNested())), [[0, 1], [2, 3], [
        4,
        5,
      ]]);
      const dict = await client.submit("builtins.dict", { a: 1, b: [1.5, "x"] }).result(WAIT);
      assert.deepEqual(dict, { a: 1, b: [1.5, "x"] });
      assert.equal(await client.submit("builtins.str", 12).result(WAIT), "12");
      assert.equal(await client.submit("builtins.print", "").result(WAIT), null);
    });

    await step(t, "ZeroDivisionError becomes RemoteError with type and traceback", async () => {
      const bad = client.submit("operator.truediv", 1, 0);
      const check = (e: unknown) => {
        assert.ok(e instanceof RemoteError, String(e));
        assert.equal(e.type, "ZeroDivisionError");
        assert.equal(e.module, "builtins");
        assert.equal(e.pythonMessage, "division by zero");
        assert.match(e.traceback, /File ".+", line \d+, in /);
        return true;
      };
      await assert.rejects(bad.result(WAIT), check);
      assert.equal(bad.status, "error");
      // Dependents fail with the same exception.
      await assert.rejects(client.submit("operator.neg", bad).result(WAIT), check);
    });

    await step(
      t,
      "a module or name the scheduler cannot import is named as the cause",
      async () => {
        const missing = [
          [
            "no_such_module_dedl.fn",
            "ModuleNotFoundError",
            /No module named 'no_such_module_dedl'/,
          ],
          ["math.no_such_function", "AttributeError", /no_such_function/],
        ] as const;
        for (const [fn, type, message] of missing) {
          await assert.rejects(client.submit(fn, 1).result(WAIT), (e: unknown) => {
            assert.ok(e instanceof RemoteError, String(e));
            assert.equal(e.type, type);
            assert.match(e.pythonMessage, /the scheduler could not load the task graph/);
            assert.match(e.pythonMessage, message);
            return true;
          });
        }
      },
    );

    await step(t, "a result the worker cannot serialize names the key and the cause", async () => {
      const lock = client.submit("threading.Lock");
      await assert.rejects(lock.result(WAIT), (e: unknown) => {
        assert.ok(e instanceof RemoteSerializationFailed, String(e));
        assert.equal(e.key, lock.key);
        assert.equal(e.pythonType, "TypeError");
        assert.match(e.pythonMessage, /cannot pickle '_thread.lock' object/);
        return true;
      });
      assert.equal(await client.submit("operator.add", 1, 2).result(WAIT), 3, "still usable");
    });

    await step(t, "equal submissions share a key; release frees it", async () => {
      const a = client.submit("operator.add", 40, 2);
      const b = client.submit("operator.add", 40, 2);
      assert.equal(a.key, b.key);
      assert.equal(await a.result(WAIT), 42);
      a.release();
      await assert.rejects(a.result(), FutureReleased);
      assert.equal(await b.result(WAIT), 42, "the other future still holds the key");
      assert.equal(await taskState(client, b.key), "memory");
      b.release();
      await eventually(
        "the key is forgotten",
        async () => (await taskState(client, b.key)) === null,
      );
    });

    await step(t, "result timeout and closing a client reject pending futures", async () => {
      const slow = client.submit("time.sleep", 1.5);
      await assert.rejects(slow.result({ timeoutMs: 100 }), (e: unknown) => {
        assert.ok(e instanceof RequestTimeout, String(e));
        assert.match(e.message, /within 100 ms/);
        return true;
      });
      const other = await Client.connect(cluster.address);
      const pending = other.submit("time.sleep", 1.6);
      const outcome = pending.result().then(() => "resolved", (e) => e);
      await other.close();
      assert.ok((await outcome) instanceof ClientClosed);
      assert.throws(() => other.submit("operator.add", 1, 2), ClientClosed);
      await other.close();
      assert.equal(await slow.result(WAIT), null, "the first client is unaffected");
    });

    await step(t, "cancel a sleeping task", async () => {
      const sleeping = client.submit("time.sleep", 3);
      await eventually(
        "the task runs",
        async () => (await taskState(client, sleeping.key)) === "processing",
      );
      await sleeping.cancel();
      await assert.rejects(sleeping.result(WAIT), TaskCancelled);
      assert.equal(sleeping.status, "cancelled");
      await eventually(
        "the scheduler forgets it",
        async () => (await taskState(client, sleeping.key)) === null,
      );
    });
  });

  Deno.test(`client (${era}) - scheduler killed mid-job rejects pending futures`, async () => {
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address);
    const done = client.submit("operator.add", 1, 1);
    assert.equal(await done.result(WAIT), 2);
    const pending = [
      client.submit("time.sleep", 30),
      client.compute(py.call("operator.neg", py.call("time.sleep", 31))),
    ];
    await eventually(
      "a task runs",
      async () => (await taskState(client, pending[0].key)) === "processing",
    );
    const outcomes = pending.map((f) => f.result().then(() => "resolved", (e) => e));
    await cluster.killScheduler();
    for (const outcome of await Promise.all(outcomes)) {
      assert.ok(outcome instanceof ConnectionLost, String(outcome));
      assert.match(outcome.message, /lost the connection to scheduler/);
    }
    assert.ok(client.closed);
    await assert.rejects(done.result(), ConnectionLost);
    assert.throws(() => client.submit("operator.add", 1, 2), ConnectionLost);
  });

  Deno.test(`client (${era}) - tls:// with mutual TLS`, async () => {
    await using cluster = await LocalCluster.start({ era, tls: true });
    assert.match(cluster.address, /^tls:\/\//);
    await using client = await Client.connect(cluster.address, { tls: cluster.tls });
    assert.equal(await client.submit("operator.add", 1, 2).result(WAIT), 3);
    const big = await client.submit("numpy.ones", 1_000_000).result(WAIT) as NDArray;
    assert.equal(big.size, 1_000_000);
    assert.equal(big.get(999_999), 1);
    // A client certificate the scheduler does not trust, and plain TCP to a TLS port.
    const dir = await Deno.makeTempDir({ prefix: "dedl-tls-" });
    try {
      const stranger = await makeTlsKeypair(dir, "stranger");
      await assert.rejects(
        Client.connect(cluster.address, {
          tls: { ...cluster.tls!, ...stranger, ca: cluster.tls!.ca },
        }),
        (e: unknown) => {
          assert.ok(e instanceof TlsHandshakeFailed, String(e));
          assert.match(e.message, /does not accept our client certificate/);
          return true;
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    await assert.rejects(
      Client.connect(cluster.address.replace("tls://", "tcp://")),
      (e: unknown) => {
        assert.ok(e instanceof HandshakeFailed, String(e));
        assert.match(e.message, /connect with tls:\/\//);
        return true;
      },
    );
  });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - a task longer than the heartbeat timeout completes`, async () => {
    // Schedulers before 2025.4.0 never answer heartbeats: a quiet stream is not a dead one.
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address, {
      heartbeatIntervalMs: 200,
      heartbeatTimeoutMs: 1000,
    });
    const started = Date.now();
    assert.equal(await client.submit("time.sleep", 3.5).result(WAIT), null);
    assert.ok(Date.now() - started >= 3000);
    assert.equal(client.closed, false);
  });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - a hung scheduler is detected by the heartbeat timeout`, async () => {
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address, {
      heartbeatIntervalMs: 200,
      heartbeatTimeoutMs: 1500,
    });
    const started = Date.now();
    const pending = client.submit("time.sleep", 20);
    await eventually(
      "the task runs",
      async () => (await taskState(client, pending.key)) === "processing",
    );
    cluster.signalScheduler("SIGSTOP");
    try {
      await assert.rejects(pending.result(), (e: unknown) => {
        assert.ok(e instanceof ConnectionLost, String(e));
        assert.match(e.message, /sent nothing for \d+ ms/);
        return true;
      });
      // Detected within two heartbeat timeouts (the silence, then an unanswered probe).
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      cluster.signalScheduler("SIGCONT");
    }
  });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - 200 MB result arrives intact in split frames`, async () => {
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address);
    const n = 25_000_000;
    const f = client.submit("numpy.arange", n, py.kwargs({ dtype: "float64" }));
    await f.wait(WAIT);
    const raw = await client.rpc("gather", { keys: [f.key], serializers: ["dask"] }, WAIT) as {
      data: Record<string, Serialized>;
    };
    assert.ok(raw.data[f.key] instanceof Serialized);
    const header = raw.data[f.key].header;
    assert.ok(Array.isArray(header["split-num-sub-frames"]), "the scheduler sent shards");
    assert.ok((header["split-num-sub-frames"] as number[])[0] > 1);
    const arr = await f.result(WAIT) as NDArray;
    assert.equal(arr.size, n);
    const data = arr.data as Float64Array;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += data[i];
    assert.equal(sum, (n * (n - 1)) / 2);
    assert.equal(data[n - 1], n - 1);
  });
}

for (const [era, codec] of [["dedl", "lz4"], ["current", "lz4"], ["current", "zlib"]] as const) {
  Deno.test(`client (${era}) - ${codec} frames forwarded from workers are decoded`, async () => {
    await using cluster = await LocalCluster.start({ era, workerCompression: codec });
    await using client = await Client.connect(cluster.address);
    // A JS 1000.0 is the Python int 1000: ask for floats explicitly.
    const f = client.submit("numpy.tile", py.call("numpy.arange", new PyFloat(1000)), 2000);
    await f.wait(WAIT);
    const raw = await client.rpc("gather", { keys: [f.key], serializers: ["dask"] }, WAIT) as {
      data: Record<string, Serialized>;
    };
    assert.deepEqual(raw.data[f.key].header.compression, [codec], "the worker compressed it");
    const arr = await f.result(WAIT) as NDArray;
    assert.equal(arr.size, 2_000_000);
    assert.equal(arr.get(1_999_999), 999);
    assert.equal(arr.get(1234), 234);
    if (codec === "zlib") {
      // Test files share one runtime, so zlib may be loaded already here: a fresh process
      // shows that the first zlib message loads the codec by itself.
      const code = `
        import { Client, py, PyFloat } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
        const client = await Client.connect(${JSON.stringify(cluster.address)});
        const f = client.submit("numpy.tile", py.call("numpy.arange", new PyFloat(1000)), 2000);
        if (f.key !== ${JSON.stringify(f.key)}) throw new Error("not the same task: " + f.key);
        console.log((await f.result({ timeoutMs: 60000 })).get(1234));
        await client.close();`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", code],
        stderr: "inherit",
      }).output();
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "234");
    }
  });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - a result nested 200 levels deep decodes`, async () => {
    // Workers send each level of a nested list as a collection with its own sub-header: two
    // msgpack levels per level, which the decoder's depth limit must not count twice.
    await using cluster = await LocalCluster.start({ era });
    await using client = await Client.connect(cluster.address);
    let nested: unknown = 7;
    for (let i = 0; i < 200; i++) nested = [nested];
    const value = await client.compute(py.call("json.loads", JSON.stringify(nested))).result(WAIT);
    assert.deepEqual(value, nested);
  });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - a task that kills its workers ends in a readable KilledWorker`, async () => {
    await using cluster = await LocalCluster.start({ era, nanny: true });
    await using client = await Client.connect(cluster.address);
    await assert.rejects(client.submit("os._exit", 1).result(WAIT), (e: unknown) => {
      assert.ok(e instanceof RemoteError, String(e));
      assert.equal(e.type, "KilledWorker");
      assert.match(
        e.pythonMessage,
        /on 3 different workers, but all those workers died .*the last one was tcp:\/\/127\.0\.0\.1:\d+/,
      );
      assert.doesNotMatch(e.message, /\[object Object\]/);
      return true;
    });
  });
}

/** A toolz release other than each environment's, for workers that differ from the scheduler. */
const OTHER_TOOLZ = { dedl: "toolz==0.12.1", current: "toolz==1.0.0" } as const;

for (const era of ["dedl", "current"] as const) {
  Deno.test(`client (${era}) - workers with other package versions: one warning`, async () => {
    await using cluster = await LocalCluster.start({
      era,
      workerPythonPath: await pythonOverlay(era, OTHER_TOOLZ[era]),
    });
    const seen: ClientWarning[] = [];
    await using client = await Client.connect(cluster.address, { onWarning: (w) => seen.push(w) });
    assert.equal(seen.length, 1, "one warning");
    assert.ok(seen[0] instanceof VersionMismatchWarning);
    assert.equal(seen[0].code, "VERSION_MISMATCH");
    assert.deepEqual(client.warnings, seen);
    assert.match(seen[0].message, new RegExp(`scheduler ${cluster.address}`));
    const version = OTHER_TOOLZ[era].split("==")[1].replaceAll(".", "\\.");
    assert.match(seen[0].message, new RegExp(`toolz.*${version}`));
    assert.equal(client.schedulerVersions.packages.toolz, await pinnedVersion(era, "toolz"));
    // The work goes on.
    assert.equal(await client.submit("operator.add", 1, 2).result(WAIT), 3);
    // Workers that match the scheduler give no warning.
    await using same = await LocalCluster.start({ era });
    await using quiet = await Client.connect(same.address, { onWarning: (w) => seen.push(w) });
    assert.deepEqual(quiet.warnings, []);
    assert.equal(seen.length, 1);
  });
}

for (const era of PYTHON_ERAS) {
  Deno.test(`client (${era}) - task options: workers pin tasks, retries rerun failures`, async () => {
    await using cluster = await LocalCluster.start({ era, workers: 2, threadsPerWorker: 1 });
    await using client = await Client.connect(cluster.address);
    let workers: string[] = [];
    for (const deadline = Date.now() + 30_000; workers.length < 2 && Date.now() < deadline;) {
      workers = Object.keys((await client.identity()).workers);
      if (workers.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(workers.length, 2, "both workers joined");

    // Each task reports the worker it ran on; the nonce makes every task a new key.
    const whereAmI = (nonce: number) =>
      py.call("builtins.eval", "__import__('distributed').get_worker().address", { nonce });
    let nonce = 0;
    for (const worker of workers) {
      const futures = Array.from(
        { length: 4 },
        () => client.compute(whereAmI(nonce++), { workers: [worker] }),
      );
      assert.deepEqual(await client.gather(futures), [worker, worker, worker, worker]);
    }

    // One thread, kept busy: of two tasks queued behind it, the higher priority runs first.
    const busy = client.compute(py.call("time.sleep", 1), { workers: [workers[0]] });
    const when = (nonce: string) =>
      py.call("builtins.eval", "__import__('time').time()", { nonce });
    const low = client.compute(when(`low-${era}`), { workers: [workers[0]] });
    const high = client.compute(when(`high-${era}`), { workers: [workers[0]], priority: 10 });
    const [, lowAt, highAt] = await client.gather([busy, low, high]) as number[];
    assert.ok(highAt < lowAt, `priority 10 ran at ${highAt}, priority 0 at ${lowAt}`);

    // A task that fails until its third run: each run leaves a file behind.
    const flaky = async (options: { retries?: number }) => {
      const dir = await Deno.makeTempDir({ prefix: "dedl-retries-" });
      const code = `import os\nd = ${JSON.stringify(dir)}\nn = len(os.listdir(d))\n` +
        `open(os.path.join(d, str(n)), "w").close()\nassert n >= 2, f"run {n}"\n`;
      const outcome = await client.compute(py.call("builtins.exec", code), options).result(WAIT)
        .then(() => "done", (e) => e);
      const runs = [...Deno.readDirSync(dir)].length;
      await Deno.remove(dir, { recursive: true });
      return { outcome, runs };
    };
    assert.deepEqual(await flaky({ retries: 2 }), { outcome: "done", runs: 3 });
    const once = await flaky({});
    assert.ok(once.outcome instanceof RemoteError, String(once.outcome));
    assert.match(once.outcome.message, /AssertionError.*run 0/);
    assert.equal(once.runs, 1);

    const node = whereAmI(-1);
    for (
      const [options, pattern] of [
        [{ retries: -1 }, /retries is -1; give an integer >= 0/],
        [{ retries: 1.5 }, /retries is 1.5/],
        [{ workers: [] }, /workers is \[\]; give a non-empty list/],
        [{ allowOtherWorkers: true }, /only together with workers/],
        [{ priority: 0.5 }, /priority is 0.5; give an integer/],
      ] as const
    ) {
      assert.throws(() => client.compute(node, options), (e: unknown) => {
        assert.ok(e instanceof GraphBuildFailed, String(e));
        assert.match(e.message, pattern);
        return true;
      });
    }
  });
}

Deno.test("client - connecting to nothing is refused with a typed error", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(Client.connect(`tcp://127.0.0.1:${port}`), ConnectionRefused);
});

Deno.test("client - an HTTP server is named as such, not as a too-large message", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hello"),
  );
  try {
    await assert.rejects(
      Client.connect(`tcp://127.0.0.1:${server.addr.port}`, { connectTimeoutMs: 5_000 }),
      (e: unknown) => {
        assert.ok(e instanceof HandshakeFailed, String(e));
        assert.match(e.message, /is not a Dask scheduler or worker/);
        assert.match(e.message, /"HTTP\/1\.1"… \(an HTTP server\)/);
        return true;
      },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("client - a scheduler older than the supported range is refused at connect", async () => {
  // A fake scheduler: real handshake, then a `versions` reply naming an old release.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  // The client opens its RPC and stream connections at once; either may be accepted first.
  const serveOne = async (conn: Deno.Conn) => {
    const comm = await Comm.open(new DenoConnTransport("tcp://client", conn));
    const request = await comm.recv().catch(() => null) as { op: string } | null;
    if (request !== null) {
      assert.equal(request.op, "versions");
      await comm.send({ host: {}, packages: { distributed: "2023.3.2", dask: "2023.3.2" } });
      await comm.recv().catch(() => {});
    }
    comm.close();
    return request !== null;
  };
  const serving = (async () => {
    const first = serveOne(await listener.accept());
    const asked = [await serveOne(await listener.accept()), await first];
    assert.equal(asked.filter(Boolean).length, 1, "one versions request");
  })();
  try {
    await assert.rejects(Client.connect(`tcp://127.0.0.1:${port}`), (e: unknown) => {
      assert.ok(e instanceof UnsupportedSchedulerVersion, String(e));
      assert.equal(e.version, "2023.3.2");
      assert.match(e.message, /distributed 2023\.3\.2.*supports distributed >= 2023\.4\.0/);
      return true;
    });
  } finally {
    await serving;
    listener.close();
  }
});
