/**
 * Bench 3 — bulk data through the gateway's TLS proxy: `gather` of a float64 array made on the
 * cluster (`numpy.ones(n)`) and `scatter` of one made here, 256 MiB by default, each in its own
 * process so that its peak RSS belongs to that one transfer. Throughput is payload over the time
 * of the call alone. Optionally the same over a direct `tcp://` scheduler, for reference.
 * Targets: throughput ours/Python >= 1.0; ours' peak RSS <= 1.5 × the payload.
 * @module
 */
import type { BenchContext } from "./bench_context.ts";
import { alternate, type Impl, median, runChild } from "./harness.ts";
import { meets, peaks, spread } from "./report.ts";

const RATE_TARGET = { min: 1.0 };
const RSS_TARGET = { max: 1.5 };

/** Runs the transfer bench and adds its rows to the summary. */
export async function transfer(ctx: BenchContext): Promise<void> {
  const { fx, summary, settings } = ctx;
  const payload = settings.payloadMiB * 1024 * 1024;
  const n = payload / 8;
  const gateway = await fx.gatewayTarget();
  const routes: { label: string; config: () => Promise<Record<string, unknown>> }[] = [
    {
      label: "gateway TLS proxy",
      config: async () => ({ ...gateway, token: await fx.freshToken() }),
    },
  ];
  if (settings.tcpReference) {
    const local = await fx.localCluster();
    routes.push({
      label: "tcp:// direct",
      config: () => Promise.resolve({ address: local.address }),
    });
  }
  for (const route of routes) {
    for (const op of ["gather", "scatter"]) {
      const runs = await alternate(settings.reps, async (impl: Impl) =>
        runChild(fx.python, {
          impl,
          script: "ours_client.ts",
          args: [op],
          config: { ...(await route.config()), n },
          timeoutMs: 300_000,
        }));
      const rate = (ms: number) => payload / 2 ** 20 / (ms / 1000);
      const ours = runs.ours.map((r) => rate(Number(r.result.ms)));
      const python = runs.python.map((r) => rate(Number(r.result.ms)));
      const ratio = median(ours) / median(python);
      const oursRss = runs.ours.map((r) => r.peakRssKiB);
      const pythonRss = runs.python.map((r) => r.peakRssKiB);
      const size = `${settings.payloadMiB} MiB`;
      summary.add({
        figure: `${op} ${size} float64, ${route.label}`,
        ours: spread(ours, "MiB/s"),
        python: spread(python, "MiB/s"),
        ratio: ratio.toFixed(2),
        target: ">= 1.0",
        met: meets(ratio, RATE_TARGET),
        peakRss: peaks(oursRss, pythonRss),
      });
      const perPayload = (kib: number[]) => median(kib) * 1024 / payload;
      summary.add({
        figure: `${op} ${size}, ${route.label}: peak RSS / payload`,
        ours: `${perPayload(oursRss).toFixed(2)} ×`,
        python: `${perPayload(pythonRss).toFixed(2)} ×`,
        ratio: (perPayload(oursRss) / perPayload(pythonRss)).toFixed(2),
        target: "ours <= 1.5",
        met: meets(perPayload(oursRss), RSS_TARGET),
        peakRss: peaks(oursRss, pythonRss),
      });
    }
  }
}
