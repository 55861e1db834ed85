/**
 * Lazy-collection wall time: `client.computeCollection(...)` + `result()` from TypeScript
 * against Python's `client.compute(dataarray).result()`, on the same local cluster and the same
 * files — the replica's flood dataset (1 GB of float32, 128 chunks): the notebook's
 * `flood_map.sum() * 20 * 20 / 1000`. Rounds alternate between the two clients; prints the
 * medians and the ratio (goal: TypeScript / Python <= 1.2). Never asserts.
 *
 *   deno run -A bench/collection.ts [--rounds 7] [--workers 2] [--threads 1] [--dataset <zarr>]
 *
 * TypeScript's time includes opening the dataset (that happens on a worker, in the first
 * task); Python's `compute` time does not (it opens the dataset in the client before), so the
 * ratio is also printed against Python's open + compute time.
 * @module
 */
import { parseArgs } from "node:util";
import { Client, py } from "../protocol/mod.ts";
import { LocalCluster } from "../protocol/testing/local_cluster.ts";
import { pythonCompute } from "../protocol/testing/python_compute.ts";
import { readEndpoints } from "../tests/replica/endpoints.ts";
import { replicaDatasets } from "../tests/replica/replica.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    workers: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
    dataset: { type: "string" },
  },
});
const rounds = Number(args.rounds);
const path = args.dataset ?? (await replicaDatasets(await readEndpoints())).central.flood;

const flood = py.call("xarray.open_zarr", path, py.kwargs({ consolidated: false })).item("flood");
const area = py.collection(
  flood.method("sum").method("__mul__", 20).method("__mul__", 20).method("__truediv__", 1000),
);
const expression = `xr.open_zarr("${path}", consolidated=False)["flood"].sum() * 20 * 20 / 1000`;

await using cluster = await LocalCluster.start({
  workers: Number(args.workers),
  threadsPerWorker: Number(args.threads),
});
await using client = await Client.connect(cluster.address);

async function typescriptRun(): Promise<{ seconds: number; buildSeconds: number }> {
  const started = performance.now();
  const future = await client.computeCollection(area);
  const built = performance.now();
  await future.result();
  const seconds = (performance.now() - started) / 1000;
  future.release();
  return { seconds, buildSeconds: (built - started) / 1000 };
}

/** One Python process per round; its second compute is measured (the first warms the client). */
async function pythonRun(): Promise<{ seconds: number; total: number }> {
  const r = await pythonCompute({ address: cluster.address, expression, repeat: 2 });
  return { seconds: r.seconds[1], total: r.total_seconds[1] };
}

await typescriptRun(); // warm-up: imports on the workers, page cache
await pythonRun();
const ts: number[] = [];
const build: number[] = [];
const python: number[] = [];
const pythonTotal: number[] = [];
for (let i = 0; i < rounds; i++) {
  const t = await typescriptRun();
  ts.push(t.seconds);
  build.push(t.buildSeconds);
  const p = await pythonRun();
  python.push(p.seconds);
  pythonTotal.push(p.total);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s: number) => `${(s * 1000).toFixed(0)} ms`;
console.log(
  `flooded area of ${path} on ${args.workers} workers x ${args.threads} thread(s), ` +
    `${rounds} rounds (medians):`,
);
console.log(
  `  TypeScript computeCollection + result  ${fmt(median(ts))}` +
    ` (of which building the graph on a worker ${fmt(median(build))})`,
);
console.log(`  Python client.compute(...).result()    ${fmt(median(python))}`);
console.log(`  Python open_zarr + compute + result     ${fmt(median(pythonTotal))}`);
console.log(
  `  ratio TypeScript / Python: ${(median(ts) / median(python)).toFixed(2)} ` +
    `(vs open + compute: ${(median(ts) / median(pythonTotal)).toFixed(2)}; goal <= 1.2)`,
);
