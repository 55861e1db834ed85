import assert from "node:assert/strict";
import { pinnedDistributed } from "../../tests/replica/python_env.ts";
import { Client } from "./client.ts";
import { InvalidArgument, RestartFailed, TaskCancelled, WorkerRunFailed } from "../errors.ts";
import { py } from "../graph/py.ts";
import { LocalCluster } from "../testing/local_cluster.ts";

const WAIT = { timeoutMs: 60_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

for (const era of ["dedl", "current"] as const) {
  Deno.test(`run, versions and restart (${era}) - on every worker`, async (t) => {
    // Workers under nannies, as dask-gateway starts them, so that restart brings them back.
    await using cluster = await LocalCluster.start({ era, workers: 2, nanny: true });
    await using client = await Client.connect(cluster.address);
    const distributed = await pinnedDistributed(era);
    const workers = Object.keys((await client.identity()).workers).sort();
    assert.equal(workers.length, 2);

    await step(t, "run returns one entry per worker, by address", async () => {
      const versions = await client.run("importlib.metadata.version", "distributed");
      assert.deepEqual(Object.keys(versions).sort(), workers);
      for (const v of Object.values(versions)) assert.equal(v, distributed);
      // Keyword arguments, and a value that is not msgpack-able (a tuple of a path).
      const joined = await client.run(py.fn("os.path.join"), "a", "b");
      assert.deepEqual(Object.values(joined), ["a/b", "a/b"]);
      const sorted = await client.run("builtins.sorted", [3, 1, 2], py.kwargs({ reverse: true }));
      assert.deepEqual(Object.values(sorted), [[3, 2, 1], [3, 2, 1]]);
    });

    await step(t, "a function that raises names the worker and the Python error", async () => {
      await assert.rejects(client.run("importlib.import_module", "not_installed_here"), (e) => {
        assert.ok(e instanceof WorkerRunFailed, String(e));
        assert.ok(workers.includes(e.worker));
        assert.equal(e.type, "ModuleNotFoundError");
        assert.equal(e.fn, "importlib.import_module");
        assert.match(
          e.message,
          /importlib\.import_module failed on worker tcp:\/\/.*No module named/,
        );
        return true;
      });
      await assert.rejects(
        client.run(42 as unknown as string),
        (e) => e instanceof InvalidArgument,
      );
    });

    await step(t, "versions: the scheduler and every worker", async () => {
      const v = await client.versions();
      assert.equal(v.scheduler.distributed, distributed);
      assert.deepEqual(Object.keys(v.workers).sort(), workers);
      for (const w of Object.values(v.workers)) {
        assert.equal(w.distributed, distributed);
        assert.equal(w.dask, v.scheduler.dask);
        assert.match(w.python, /^3\.\d+\.\d+/);
        assert.equal(typeof w.packages.numpy, "string");
      }
    });

    await step(t, "restart: pending work is cancelled, the cluster works afterwards", async () => {
      const kept = client.submit("operator.add", 1, 2);
      assert.equal(await kept.result(WAIT), 3);
      const pending = client.compute(py.call("time.sleep", 4));
      const pids = await client.run("os.getpid");
      await client.restart({ timeoutMs: 60_000 });
      await assert.rejects(pending.result(WAIT), TaskCancelled);
      await assert.rejects(kept.result(WAIT), TaskCancelled);
      assert.equal(kept.status, "cancelled");
      const after = Object.keys((await client.identity()).workers);
      assert.equal(after.length, 2);
      const newPids = await client.run("os.getpid");
      for (const pid of Object.values(newPids)) {
        assert.ok(!Object.values(pids).includes(pid), "every worker process is new");
      }
      // Work submitted right after restart() is not cancelled by a late announcement.
      assert.equal(await client.submit("operator.add", 1, 2).result(WAIT), 3);
      assert.equal(await client.submit("operator.mul", 6, 7).result(WAIT), 42);
    });
  });
}

Deno.test("restart (dedl) - workers without a nanny do not come back: RestartFailed", async () => {
  await using cluster = await LocalCluster.start({ era: "dedl", workers: 1 });
  await using client = await Client.connect(cluster.address);
  await assert.rejects(client.restart({ timeoutMs: 2_000 }), (e) => {
    assert.ok(e instanceof RestartFailed, String(e));
    assert.equal(e.code, "ERR_RESTART_FAILED");
    assert.match(e.message, /could not restart the workers: .*nanny/s);
    return true;
  });
});
