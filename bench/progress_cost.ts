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
 * Each row also estimates the scheduler time the polls take, apart from the wall times (which
 * drift by more than 2 % on a shared machine): the round trip of one `get_task_status` of every
 * task of the computation, times the polls of a run, over the run's time — an upper bound, as done
 * keys are not asked again. For collections, progress also has the graph-building task list the
 * graph's keys (a few more small tasks and one materialisation of the graph on a worker).
 *
 * Needs the replica's datasets (`deno task replica start` once; the bench reads the stores from
 * disk, it does not use the sites).
 * @module
 */
import process from "node:process";
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

/** The scheduler process this process started (a child running `dask_process.py scheduler`). */
async function schedulerPid(): Promise<number | undefined> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== Deno.pid) continue;
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (/dask_process\.py\0scheduler/.test(cmdline)) return Number(entry.name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU time (user + system) a process has used, in milliseconds (Linux `/proc`). */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

/** This process's CPU time in milliseconds. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Median round trip of `get_task_status` for `count` keys (absent ones, as cheap to look up). */
async function pollRoundTrip(client: Client, count: number): Promise<number> {
  const keys = Array.from({ length: count }, (_, i) => `probe-${i}`);
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await client.rpc("get_task_status", { keys });
    times.push(performance.now() - t0);
  }
  return median(times);
}

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
    const scheduler = await schedulerPid();
    let run = 0;
    await w.run(client, ++run, undefined); // warm-up: imports on the workers, page cache
    const without: number[] = [];
    const withProgress: number[] = [];
    const cpu = { without: [] as number[], with: [] as number[] };
    const ownCpu = { without: [] as number[], with: [] as number[] };
    const reports: number[] = [];
    let tasksPolled = 0;
    for (let i = 0; i < reps; i++) {
      // ABBA: each side runs first in half of the rounds.
      const order = i % 2 === 0 ? [false, true] : [true, false];
      for (const progress of order) {
        let count = 0;
        const cpu0 = await cpuMs(scheduler);
        const own0 = ownCpuMs();
        const t0 = performance.now();
        await w.run(
          client,
          ++run,
          progress
            ? (p) => {
              count++;
              tasksPolled = Math.max(tasksPolled, p.total);
            }
            : undefined,
        );
        const ms = performance.now() - t0;
        cpu[progress ? "with" : "without"].push((await cpuMs(scheduler)) - cpu0);
        ownCpu[progress ? "with" : "without"].push(ownCpuMs() - own0);
        if (progress) {
          withProgress.push(ms);
          reports.push(count);
        } else {
          without.push(ms);
        }
      }
    }
    const ratio = median(withProgress) / median(without);
    // Wall times on a shared machine drift by more than 2 %; the scheduler time the polls take
    // is estimated apart: one poll of every task of a computation (an upper bound: done keys are
    // not asked again), times the polls of a run, over the run's time.
    const pollMs = await pollRoundTrip(client, tasksPolled);
    const polls = Math.max(0, median(reports) - 2);
    const share = (100 * polls * pollMs) / median(withProgress);
    console.log(
      `${`${w.label}, ${release}`.padEnd(48)} ${spread(without, "ms").padEnd(24)} ${
        spread(withProgress, "ms").padEnd(24)
      } ${ratio.toFixed(3).padEnd(13)} ${String(median(reports)).padEnd(8)} ${
        pollMs.toFixed(1)
      } ms × ${polls} = ${share.toFixed(2)} %`,
    );
    const cpuRow = (what: string, c: { without: number[]; with: number[] }) =>
      console.log(
        `${`  ${what} CPU time`.padEnd(48)} ${spread(c.without, "ms").padEnd(24)} ${
          spread(c.with, "ms").padEnd(24)
        } ${(median(c.with) / median(c.without)).toFixed(3)}`,
      );
    cpuRow("scheduler", cpu);
    cpuRow("client", ownCpu);
  }
}
