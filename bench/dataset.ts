/**
 * Datasets by URL, ours against Python's, side by side (figures only, nothing asserted):
 *
 * 1. Opening a dataset's metadata: `openDataset(url)` against xarray's `xr.open_zarr(url)` on
 *    the same URL (the replica's flood store, served by central's object store). Each repetition
 *    is a fresh process; the first open in it (Python's after `import xarray`, which is shown
 *    apart) and the median of the warm opens after it.
 * 2. The flood workflow end to end: open both datasets, log in, a cluster at each dataset's site
 *    (2 workers × 1 core), the notebook's three steps computed where the data is, shutdown —
 *    ours (`MultiCluster`, datasets routing themselves) against Python with dedl-stack-client's
 *    semantics (dask_gateway, one site after the other; routing by `attrs["location"]`).
 *
 *   deno run -A bench/dataset.ts [--reps-open 7] [--reps-flood 3] [--only open,flood]
 *
 * Needs the running replica (`deno task replica start`).
 * @module
 */
import { parseArgs } from "node:util";
import { readEndpoints } from "../tests/replica/endpoints.ts";
import { alternate, type ChildRun, type Impl, median, runChild } from "./harness.ts";
import { peaks, spread } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    "reps-open": { type: "string", default: "7" },
    "reps-flood": { type: "string", default: "3" },
    only: { type: "string", default: "open,flood" },
  },
});
const only = new Set(args.only.split(","));
const ep = await readEndpoints();
const floodUrl = ep.sites.central.dataset_urls!.flood;
const rainUrl = ep.sites.lumi.dataset_urls!.precipitation;

function child(impl: Impl, mode: string, config: unknown): Promise<ChildRun> {
  return runChild(ep.python, {
    impl,
    script: "ours_dataset.ts",
    pythonScript: "python_dataset.py",
    args: [mode],
    config,
    timeoutMs: 600_000,
  });
}

const row = (label: string, ours: number[], python: number[], unit = "ms", digits = 0) => {
  const ratio = median(ours) / median(python);
  console.log(
    `${label.padEnd(46)} ${spread(ours, unit, digits).padEnd(26)} ${
      spread(python, unit, digits).padEnd(26)
    } ${ratio.toFixed(2)}`,
  );
};
console.log(`${"figure".padEnd(46)} ${"dedl-dask".padEnd(26)} ${"Python".padEnd(26)} ours/Python`);

if (only.has("open")) {
  const config = { url: floodUrl, repeat: 5 };
  await child("ours", "open", config); // warm-up: module and page caches
  await child("python", "open", config);
  const runs = await alternate(Number(args["reps-open"]), (impl) => child(impl, "open", config));
  const first = (rs: ChildRun[]) => rs.map((r) => (r.result.ms as number[])[0]);
  const warm = (rs: ChildRun[]) => rs.map((r) => median((r.result.ms as number[]).slice(1)));
  row("open metadata: first open in a process", first(runs.ours), first(runs.python));
  row("open metadata: warm open (median of 4)", warm(runs.ours), warm(runs.python), "ms", 1);
  row(
    "open metadata: process spawn → opened",
    runs.ours.map((r) => r.untilResultMs),
    runs.python.map((r) => r.untilResultMs),
  );
  console.log(
    `  peak RSS ours / Python: ${
      peaks(runs.ours.map((r) => r.peakRssKiB), runs.python.map((r) => r.peakRssKiB))
    }  (${floodUrl})`,
  );
}

if (only.has("flood")) {
  const user = ep.users[0];
  const config = {
    flood: floodUrl,
    precipitation: rainUrl,
    sites: ep.sites,
    issuer: ep.issuer,
    client_id: ep.client_id,
    username: user.username,
    password: user.password,
    workers: 2,
  };
  const runs = await alternate(Number(args["reps-flood"]), (impl) => child(impl, "flood", config));
  const field = (rs: ChildRun[], name: string) =>
    rs.map((r) =>
      (name === "untilResultsMs"
        ? Number(r.result.totalMs) - Number(r.result.shutdownMs)
        : Number(r.result[name])) / 1000
    );
  for (
    const [name, label] of [
      ["totalMs", "flood workflow end to end"],
      ["untilResultsMs", "flood workflow until the results are here"],
      ["openMs", "  of which: open both datasets"],
      ["startMs", "  of which: log in + clusters ready"],
      ["computeMs", "  of which: the three steps computed"],
      // Ours waits until every cluster is STOPPED; dask_gateway's shutdown() only asks for it.
      ["shutdownMs", "  of which: shutdown"],
    ]
  ) {
    row(label, field(runs.ours, name), field(runs.python, name), "s", 1);
  }
  const areas = [...runs.ours, ...runs.python].map((r) => r.result.area);
  console.log(`  flooded area, every run: ${[...new Set(areas)].join(", ")}`);
}
