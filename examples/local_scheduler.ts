/**
 * Computes on a running Dask scheduler from TypeScript, with no Python on this side:
 * a Monte Carlo estimate of π spread over the workers, statistics of an array sent from here,
 * and a matrix brought back as an `NDArray`.
 *
 *   python -m distributed.cli.dask_scheduler --port 8786 &   # plus one or more workers
 *   deno run -A examples/local_scheduler.ts tcp://127.0.0.1:8786
 * @module
 */
import { Client, NDArray, py } from "../protocol/mod.ts";

const address = Deno.args[0];
if (!address) {
  console.error("usage: deno run -A examples/local_scheduler.ts <scheduler address>");
  Deno.exit(2);
}

await using client = await Client.connect(address);
const info = await client.identity();
console.log(
  `connected to distributed ${info.versions.distributed} at ${info.address} ` +
    `with ${Object.keys(info.workers).length} worker(s)`,
);

// π ≈ 4 · (points inside the unit quarter circle) / (points drawn), in 16 independent chunks.
const samplesPerChunk = 1_000_000;
const insideCounts = Array.from({ length: 16 }, (_, seed) => {
  const points = py.call("numpy.random.default_rng", seed).method(
    "random",
    py.tuple(samplesPerChunk, 2),
  );
  const radii = py.call("numpy.square", points).method("sum", py.kwargs({ axis: 1 }));
  return py.call("numpy.less", radii, 1.0).method("sum").method("item");
});
const inside = await client.compute(py.call("builtins.sum", insideCounts)).result();
console.log(`pi is about ${(4 * Number(inside)) / (16 * samplesPerChunk)}`);

// Statistics of data that lives here: scatter it, then refer to the future in calls.
const temperatures = Float64Array.from({ length: 10_000 }, (_, i) => 15 + 10 * Math.sin(i / 500));
const [data] = await client.scatter([temperatures]);
const [mean, std] = await client.gather([
  client.submit("numpy.mean", data),
  client.submit("numpy.std", data),
]);
console.log(`mean ${Number(mean).toFixed(3)}, std ${Number(std).toFixed(3)}`);

// A 2-D result arrives as an NDArray with numpy's dtype, shape and strides.
const outer = await client.submit("numpy.outer", [1, 2, 3], [10, 20]).result();
if (!(outer instanceof NDArray)) throw new Error(`expected an NDArray, got ${outer}`);
console.log(`outer product ${outer.dtype} ${JSON.stringify(outer.shape)}:`, outer.toNested());
