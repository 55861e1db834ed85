/**
 * Our side of the dataset benchmarks, one measurement per process (Python's counterpart is
 * bench/children/python_dataset.py, with the same modes and configuration):
 *
 *   deno run -A bench/children/ours_dataset.ts <mode>   (configuration: one JSON line on stdin)
 *
 * Modes: `open` (`openDataset(url)` `repeat` times: the first open in a fresh process, then warm
 * ones), `flood` (the flood workflow end to end: open both datasets, log in, start a cluster at
 * each dataset's site, compute the notebook's three steps there, shut down).
 * @module
 */
import { MultiCluster, OidcAuth, openDataset, py, type SiteRegistry } from "../../mod.ts";
import { emit, emitDone, readConfig } from "./child_report.ts";

interface ChildConfig {
  readonly url?: string;
  readonly repeat?: number;
  readonly flood?: string;
  readonly precipitation?: string;
  readonly sites?: SiteRegistry;
  readonly issuer?: string;
  readonly client_id?: string;
  readonly username?: string;
  readonly password?: string;
  readonly workers?: number;
}

const mode = Deno.args[0];
const config = await readConfig<ChildConfig>();

if (mode === "open") {
  const ms: number[] = [];
  let variables = 0;
  for (let i = 0; i < (config.repeat ?? 1); i++) {
    const t0 = performance.now();
    const ds = await openDataset(config.url!);
    ms.push(performance.now() - t0);
    variables = Object.keys(ds.variables).length + Object.keys(ds.coords).length;
  }
  emit("result", { ms, variables });
} else if (mode === "flood") {
  const t0 = performance.now();
  const [floodData, rainData] = await Promise.all([
    openDataset(config.flood!),
    openDataset(config.precipitation!),
  ]);
  const flood = floodData.var("flood");
  const rain = rainData.var("precipitation");
  const opened = performance.now();
  await using auth = await OidcAuth.password({
    issuer: config.issuer,
    clientId: config.client_id,
    username: config.username!,
    password: config.password,
  });
  await using mc = await MultiCluster.connect({ auth, sites: config.sites });
  const where = [...new Set([flood.location!, rain.location!])];
  const workers = config.workers ?? 2;
  const outcomes = await mc.newCluster({ worker_cores: 1, worker_memory: 2 }, {
    sites: where,
    adapt: { minimum: workers, maximum: workers },
  });
  for (const o of outcomes) if (!o.ok) throw o.error;
  await Promise.all(where.map((s) => mc.site(s).cluster.waitForWorkers(workers)));
  const started = performance.now();
  const results = await mc.computeAll([
    flood.sum().mul(20).mul(20).div(1000),
    flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" }).median().gt(0)
      .astype("float32"),
    rain.sel({ lat: py.slice(31, 23), lon: py.slice(65, 71) }).cumsum("time").mul(1000)
      .isel({ time: -1 }),
  ]);
  for (const r of results) if (!r.ok) throw r.error;
  const computed = performance.now();
  for (const o of await mc.shutdown()) if (!o.ok) throw o.error;
  const done = performance.now();
  emit("result", {
    openMs: opened - t0,
    startMs: started - opened,
    computeMs: computed - started,
    shutdownMs: done - computed,
    totalMs: done - t0,
    area: results[0].ok ? results[0].value : null,
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
emitDone();
