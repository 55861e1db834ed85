/**
 * What progress reports cost a computation: the same work with and without `onProgress`, side by
 * side on the same cluster, runs alternating (ABBA) so that drift hits both alike. Figures only,
 * nothing asserted (goal: with / without <= 1.02).
 *
 *   deno run -A bench/progress_cost.ts [--reps 5] [--tasks 10000] [--eras dedl,current]
 *     [--only tasks,graph,flood]
 *
 * Workloads, per software release (a local scheduler with one worker of two threads, and for
 * `flood` two workers of one thread, as bench/collection.ts):
 * - `tasks`: `client.map(operator.neg, n values)` + `gather` — n outputs, n keys polled;
 * - `graph`: an n-node graph (leaves, partial sums of 100, a total) computed and fetched;
 * - `flood`: the flood workflow's three steps on the replica's 1 GB flood store, with the dataset
 *   API (`flood.sum() * 20 * 20 / 1000`, the flooded area per day, the last map coarsened 25 × 25),
 *   each a collection of chunk tasks.
 *
 * Needs the replica's datasets (`deno task replica start` once; the bench reads the stores from
 * disk, it does not use the sites).
 * @module
 */
import { parseArgs } from "node:util";
import { Client, py, type TaskProgress } from "../protocol/mod.ts";
import { openDataset } from "../lib/dataset/mod.ts";
import { LocalCluster } from "../protocol/testing/local_cluster.ts";
import { readEndpoints } from "../tests/replica/endpoints.ts";
import { replicaDatasets } from "../tests/replica/replica.ts";
import { pinnedDistributed, type PythonEra } from "../tests/replica/python_env.ts";
import { median } from "./harness.ts";
import { spread } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    tasks: { type: "string", default: "10000" },
    eras: { type: "string", default: "dedl,current" },
    only: { type: "string", default: "tasks,graph,flood" },
  },
});
const reps = Number(args.reps);
const n = Number(args.tasks);
const eras = args.eras.split(",") as PythonEra[];
const only = new Set(args.only.split(","));

/** One run of a workload: resolves when its result is here; `onProgress` only in "with" runs. */
type Workload = (
  client: Client,
  run: number,
  onProgress: ((p: TaskProgress) => void) | undefined,
) => Promise<void>;

const tasks: Workload = async (client, run, onProgress) => {
  const values = Array.from({ length: n }, (_, i) => run * 1_000_000 + i);
  const futures = client.map(py.fn("operator.neg"), values, onProgress ? { onProgress } : {});
  await client.gather(futures);
  for (const f of futures) f.release();
};

const graph: Workload = async (client, run, onProgress) => {
  const width = 100;
  const leavesN = n - Math.floor(n / (width + 1)) - 1;
  const add = py.fn("operator.add");
  const sum = py.fn("builtins.sum");
  const leaves = Array.from({ length: leavesN }, (_, i) => add.call(i, run * 1_000_000));
  const sums = [];
  for (let i = 0; i < leavesN; i += width) sums.push(sum.call(leaves.slice(i, i + width)));
  const future = client.compute(sum.call(sums), onProgress ? { onProgress } : {});
  await future.result();
  future.release();
};

let floodPath: string | undefined;
const flood: Workload = async (client, _run, onProgress) => {
  floodPath ??= (await replicaDatasets(await readEndpoints())).central.flood;
  const map = (await openDataset(floodPath)).var("flood");
  const steps = [
    map.sum().mul(20).mul(20).div(1000),
    map.sum(["y", "x"]).mul(20 * 20).div(1e6),
    map.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median().gt(0),
  ];
  await Promise.all(steps.map((s) => s.computeOn(client, onProgress ? { onProgress } : {})));
};

const WORKLOADS: Record<
  string,
  { label: string; run: Workload; workers: number; threads: number }
> = {
  tasks: { label: `${n} tasks: map + gather`, run: tasks, workers: 1, threads: 2 },
  graph: { label: `${n}-node graph: compute + result`, run: graph, workers: 1, threads: 2 },
  flood: { label: "flood workflow: 3 steps (1 GB)", run: flood, workers: 2, threads: 1 },
};

console.log(
  `${"figure".padEnd(48)} ${"without".padEnd(24)} ${
    "with onProgress".padEnd(24)
  } with/without  reports`,
);
for (const era of eras) {
  const release = await pinnedDistributed(era);
  for (const [name, w] of Object.entries(WORKLOADS)) {
    if (!only.has(name)) continue;
    await using cluster = await LocalCluster.start({
      era,
      workers: w.workers,
      threadsPerWorker: w.threads,
    });
    await using client = await Client.connect(cluster.address);
    let run = 0;
    await w.run(client, ++run, undefined); // warm-up: imports on the workers, page cache
    const without: number[] = [];
    const withProgress: number[] = [];
    const reports: number[] = [];
    for (let i = 0; i < reps; i++) {
      // ABBA: each side runs first in half of the rounds.
      const order = i % 2 === 0 ? [false, true] : [true, false];
      for (const progress of order) {
        let count = 0;
        const t0 = performance.now();
        await w.run(client, ++run, progress ? () => count++ : undefined);
        const ms = performance.now() - t0;
        if (progress) {
          withProgress.push(ms);
          reports.push(count);
        } else {
          without.push(ms);
        }
      }
    }
    const ratio = median(withProgress) / median(without);
    console.log(
      `${`${w.label}, ${release}`.padEnd(48)} ${spread(without, "ms").padEnd(24)} ${
        spread(withProgress, "ms").padEnd(24)
      } ${ratio.toFixed(3).padEnd(13)} ${median(reports)}`,
    );
  }
}
