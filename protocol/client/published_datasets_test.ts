import assert from "node:assert/strict";
import { PYTHON_ERAS } from "../../tests/replica/python_env.ts";
import { Client } from "./client.ts";
import { InvalidArgument, PublishedDatasetExists, PublishedDatasetNotFound } from "../errors.ts";
import type { Future } from "./future.ts";
import { py } from "../graph/py.ts";
import { LocalCluster } from "../testing/local_cluster.ts";
import { eventually, keysInMemory } from "../testing/scheduler_keys.ts";
import { PythonCodecDriver } from "../testing/python_codec_driver.ts";

const WAIT = { timeoutMs: 60_000 };

function step(t: Deno.TestContext, name: string, fn: () => Promise<void>) {
  return t.step({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

// Every era: the publish calls take three forms (distributed/publish.py, see graph/scheduler_era.ts).
for (const era of PYTHON_ERAS) {
  Deno.test(`published datasets (${era}) - a result kept for a later script`, async (t) => {
    await using cluster = await LocalCluster.start({ era, workers: 1 });

    await step(t, "published by one client, read by a second after the first is gone", async () => {
      const total = py.call("numpy.arange", 10).method("sum");
      let key: string;
      {
        await using first = await Client.connect(cluster.address);
        const future = first.compute(total);
        await first.publishDataset("total", future);
        key = future.key;
        assert.deepEqual(await first.listDatasets(), ["total"]);
      }
      // The first client closed: the scheduler still holds the value for the dataset.
      await using second = await Client.connect(cluster.address);
      assert.deepEqual(await second.listDatasets(), ["total"]);
      const got = await second.getDataset("total") as Future;
      assert.equal(got.key, key);
      assert.equal(await got.result(WAIT), 45);
      assert.equal(await second.submit("operator.add", got, 1).result(WAIT), 46);

      await second.unpublishDataset("total");
      assert.deepEqual(await second.listDatasets(), []);
      await assert.rejects(second.getDataset("total"), (e) => {
        assert.ok(e instanceof PublishedDatasetNotFound, String(e));
        assert.equal(e.code, "ERR_PUBLISHED_DATASET_NOT_FOUND");
        assert.match(e.message, /no dataset "total" .*published: \(none\)/);
        return true;
      });
      // The reader still holds its future; once it lets go, the scheduler frees the value.
      assert.ok((await keysInMemory(second)).has(key));
      got.release();
      await eventually("the value is freed", async () => !(await keysInMemory(second)).has(key));
      await second.unpublishDataset("total"); // a missing name is no error
    });

    await step(t, "lists of futures, names taken, override", async () => {
      await using client = await Client.connect(cluster.address);
      const parts = client.map("math.sqrt", [1, 4, 9]);
      await client.publishDataset("roots", parts);
      await assert.rejects(client.publishDataset("roots", parts[0]), (e) => {
        assert.ok(e instanceof PublishedDatasetExists, String(e));
        assert.match(e.message, /"roots" is already published/);
        return true;
      });
      await client.publishDataset("roots", parts[2], { override: true });
      await client.publishDataset("all-roots", parts);
      assert.deepEqual((await client.listDatasets()).sort(), ["all-roots", "roots"]);
      const list = await client.getDataset("all-roots") as Future[];
      assert.ok(Array.isArray(list));
      assert.deepEqual(await client.gather(list), [1, 2, 3]);
      assert.equal(await (await client.getDataset("roots") as Future).result(WAIT), 3);
      await assert.rejects(client.publishDataset("", parts[0]), InvalidArgument);
      await assert.rejects(client.publishDataset("none", []), InvalidArgument);
      await client.unpublishDataset("roots");
      await client.unpublishDataset("all-roots");
    });

    await step(t, "a persisted collection travels with its chunks", async () => {
      const array = py.call("dask.array.arange", 100, py.kwargs({ chunks: 10 }));
      {
        await using first = await Client.connect(cluster.address);
        const kept = await first.persist(py.collection(array), WAIT);
        await first.publishDataset("kept", kept);
      }
      await using second = await Client.connect(cluster.address);
      const kept = await second.getDataset("kept") as Future;
      const sum = await second.computeCollection(py.collection(py.ref(kept).method("sum")), WAIT);
      assert.equal(await sum.result(WAIT), 4950);
      await second.unpublishDataset("kept");
      // The reader's future still holds the chunks.
      const again = await second.computeCollection(
        py.collection(py.ref(kept).method("max")),
        WAIT,
      );
      assert.equal(await again.result(WAIT), 99);
    });
  });
}

// Python's own client reads what we publish: the data is a pickled distributed Future.
for (const era of ["dedl", "current"] as const) {
  Deno.test(`published datasets (${era}) - Python's get_dataset reads ours`, async () => {
    await using cluster = await LocalCluster.start({ era, workers: 1 });
    await using client = await Client.connect(cluster.address);
    await client.publishDataset("answer", client.submit("operator.mul", 6, 7));
    const python = await PythonCodecDriver.start(era);
    try {
      const got = await python.run(
        `
from distributed import Client
with Client(args["address"], timeout=30) as c:
    f = c.get_dataset("answer")
    result = [type(f).__name__, f.result(timeout=30)]
`,
        { address: cluster.address },
      );
      assert.deepEqual(got, ["Future", 42]);
    } finally {
      await python.close();
    }
  });
}
