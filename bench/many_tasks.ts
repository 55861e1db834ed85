/**
 * Bench 2 — many small tasks on a local `tcp://` scheduler with one worker: `map` of
 * `operator.neg` over n values then `gather` (10 000 futures), and an n-node graph (leaves
 * `operator.add`, partial sums of 100, a total) built, computed and fetched — Python builds it
 * with `dask.delayed`, ours with `py` — and the same map + gather over 50 000 values
 * (`--large-tasks`), where what a client keeps per task shows in its peak RSS. Timed inside each
 * process after connecting. Each run gets
 * a scheduler and worker of its own: a scheduler that has just handled 10 000 tasks is slower
 * for whoever comes next. One pair of rows per software release (`--eras`). Target: ours/Python
 * <= 1.0.
 * @module
 */
import type { BenchContext } from "./bench_context.ts";
import { alternate, type ChildRun, type Impl, median, runChild } from "./harness.ts";
import { LocalCluster } from "../protocol/testing/local_cluster.ts";
import { meets, peaks, spread } from "./report.ts";
import { pinnedDistributed, type PythonEra } from "../tests/replica/python_env.ts";

const TARGET = { max: 1.0 };

/** Runs the many-tasks bench and adds its rows to the summary. */
export async function manyTasks(ctx: BenchContext): Promise<void> {
  for (const era of ctx.settings.eras) await manyTasksOf(ctx, era);
}

let runIndex = 0;

async function manyTasksOf(ctx: BenchContext, era: PythonEra): Promise<void> {
  const { fx, summary, settings } = ctx;
  const n = settings.tasks;
  const interpreter = await fx.pythonOf(era);
  const release = await pinnedDistributed(era);
  const large = settings.largeTasks;
  const figures = [
    { mode: "tasks", n, label: `${n} tasks: map + gather, ${release}` },
    { mode: "graph", n, label: `${n}-node graph: build + compute + result, ${release}` },
    ...(large > 0
      ? [{ mode: "tasks", n: large, label: `${large} tasks: map + gather, ${release}` }]
      : []),
  ];
  for (const f of figures) {
    const runs = await alternate(settings.reps, async (impl: Impl): Promise<ChildRun> => {
      await using local = await LocalCluster.start({ era, workers: 1, threadsPerWorker: 2 });
      return await runChild(interpreter, {
        impl,
        script: "ours_client.ts",
        args: [f.mode],
        // A new base value per run: no key is ever already in memory.
        config: { address: local.address, n: f.n, base: 1_000_000 * ++runIndex },
        timeoutMs: 600_000,
      });
    });
    const ours = runs.ours.map((r) => Number(r.result.ms));
    const python = runs.python.map((r) => Number(r.result.ms));
    const ratio = median(ours) / median(python);
    summary.add({
      figure: f.label,
      ours: spread(ours, "ms"),
      python: spread(python, "ms"),
      ratio: ratio.toFixed(2),
      target: "<= 1.0",
      met: meets(ratio, TARGET),
      peakRss: peaks(runs.ours.map((r) => r.peakRssKiB), runs.python.map((r) => r.peakRssKiB)),
    });
  }
}
