/**
 * Bench 1 — cold start: from spawning the process to holding the result of one task, connected
 * directly to a `tcp://` scheduler and through a dask-gateway proxy to a cluster that is already
 * RUNNING (so the client is measured, not the cluster's start). Python imports `distributed`
 * (and `dask_gateway`), ours loads `mod.ts`; both get a fresh token before they start, so the
 * login is outside the figure. One row per software release (`--eras`): scheduler, worker and
 * Python's client all of that release. Target: ours/Python <= 0.2.
 * @module
 */
import type { BenchContext } from "./bench_context.ts";
import { alternate, type ChildRun, type Impl, median, runChild } from "./harness.ts";
import { meets, peaks, spread } from "./report.ts";
import { pinnedDistributed, type PythonEra } from "../tests/replica/python_env.ts";

const TARGET = { max: 0.2 };

/** Runs the cold-start bench and adds its rows to the summary. */
export async function coldStart(ctx: BenchContext): Promise<void> {
  for (const era of ctx.settings.eras) await coldStartOf(ctx, era);
}

async function coldStartOf(ctx: BenchContext, era: PythonEra): Promise<void> {
  const { fx, summary, settings } = ctx;
  const local = await fx.localCluster(era);
  const gateway = await fx.gatewayTarget(era);
  const interpreter = await fx.pythonOf(era);
  const release = await pinnedDistributed(era);
  const variants = [
    {
      via: "direct",
      label: "tcp:// direct",
      config: () => Promise.resolve({ address: local.address }),
    },
    {
      via: "gateway",
      label: "gateway TLS proxy",
      config: async () => ({ ...gateway, token: await fx.freshToken() }),
    },
  ];
  for (const v of variants) {
    const run = async (impl: Impl): Promise<ChildRun> =>
      runChild(interpreter, {
        impl,
        script: "ours_client.ts",
        args: [`cold-${v.via}`],
        config: { ...(await v.config()), nonce: Math.floor(Math.random() * 2 ** 40) },
        timeoutMs: 120_000,
      });
    // One untimed run each warms the file cache (and Deno's module cache).
    await run("ours");
    await run("python");
    const runs = await alternate(settings.reps, run);
    const ours = runs.ours.map((r) => r.untilResultMs);
    const python = runs.python.map((r) => r.untilResultMs);
    const ratio = median(ours) / median(python);
    summary.add({
      figure: `cold start, ${v.label}, ${release} (spawn → result)`,
      ours: spread(ours, "ms"),
      python: spread(python, "ms"),
      ratio: ratio.toFixed(2),
      target: "<= 0.2",
      met: meets(ratio, TARGET),
      peakRss: peaks(runs.ours.map((r) => r.peakRssKiB), runs.python.map((r) => r.peakRssKiB)),
    });
  }
}
