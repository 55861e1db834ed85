/**
 * The workflow of DEDL's 2022 Pakistan flood notebook as a script. Each dataset is opened by URL
 * (only its metadata is read here) and says where it lives (`location`): the flood maps at
 * central, the rainfall at LUMI. Every step is computed at the dataset's own site, over the whole
 * cluster there, and only the small results travel; no site is named in the code.
 *
 *   deno run -A examples/flood_workflow.ts --replica       # on the local two-site replica
 *   deno run -A examples/flood_workflow.ts --username me \
 *     --flood <zarr url> --precipitation <zarr url>          # on DEDL
 *
 * Options: `--replica` (start the local replica if needed; stop it afterwards if this script
 * started it), `--sites <bridges.json file or URL>`, `--issuer <url>`, `--username <name>`,
 * `--flood <zarr url>`, `--precipitation <zarr url>`, `--workers <n>` (per site, default 4),
 * `--out <folder>` (write PNG quick-looks of the two maps there).
 *
 * One step is the scientist's own Python: `flood_severity.py` beside this script (a severity
 * class per 500 m cell from its flooded share) is uploaded to the clusters with `mc.uploadFile`
 * and runs on their workers, chunk by chunk.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type Computed,
  type ComputedArray,
  MultiCluster,
  OidcAuth,
  openDataset,
  py,
  quickLookPng,
  type SiteRegistry,
  stopClustersOnSignal,
} from "../mod.ts";
import { TerminalProgress } from "../lib/cli/mod.ts";
import { openReplicaSession } from "./replica_session.ts";

const { values: args } = parseArgs({
  options: {
    replica: { type: "boolean", default: false },
    sites: { type: "string" },
    issuer: { type: "string" },
    username: { type: "string" },
    flood: { type: "string" },
    precipitation: { type: "string" },
    workers: { type: "string", default: "4" },
    out: { type: "string" },
  },
});

interface Setup {
  login: () => Promise<OidcAuth>;
  sites: SiteRegistry | string | undefined;
  flood: string;
  precipitation: string;
  stopReplica?: () => Promise<void>;
}

/** Where to log in, which sites, which stores: the local replica, or DEDL. */
async function setup(): Promise<Setup> {
  if (!args.replica) {
    if (!args.flood || !args.precipitation) {
      throw new Error("on DEDL, name the stores: --flood <zarr url> --precipitation <zarr url>");
    }
    const username = args.username ?? prompt("Your DEDL username:");
    if (!username) throw new Error("a DEDL username is needed (--username)");
    return {
      login: () => OidcAuth.password({ issuer: args.issuer, username }),
      sites: args.sites,
      flood: args.flood,
      precipitation: args.precipitation,
    };
  }
  const replica = await openReplicaSession();
  const urls = Object.values(replica.datasetUrls);
  return {
    login: replica.login,
    sites: replica.endpoints.sites,
    flood: args.flood ?? urls.find((u) => u.flood)!.flood,
    precipitation: args.precipitation ?? urls.find((u) => u.precipitation)!.precipitation,
    stopReplica: replica.close,
  };
}

/** A computed result that must be an array (not a 0-d number). */
function asArray(value: Computed): ComputedArray {
  if (typeof value === "number") throw new Error(`expected an array, got the number ${value}`);
  return value;
}

const { login, sites, flood: floodUrl, precipitation: rainUrl, stopReplica } = await setup();
try {
  // flood_map = xr.open_zarr(url)["flood"]: here only the metadata is read.
  const [floodData, rainData] = await Promise.all([openDataset(floodUrl), openDataset(rainUrl)]);
  for (const ds of [floodData, rainData]) {
    const [name, v] = Object.entries(ds.variables)[0];
    console.log(
      `${name.padEnd(14)} ${v.dtype}[${v.dims.map((d, i) => `${d}=${v.shape[i]}`).join(", ")}]` +
        `  at ${ds.location}  (${ds.attrs.resolution ?? "?"})  ${ds.url}`,
    );
  }
  const flood = floodData.var("flood");
  const rain = rainData.var("precipitation");

  await using auth = await login();
  console.log(`Logged in as ${auth.username}.`);
  await using mc = await MultiCluster.connect({ auth, sites });
  // Clusters only where the data is.
  const where = [...new Set([flood.location, rain.location])].filter((s) => s !== undefined);
  // Ctrl-C (or SIGTERM) stops the clusters at every site, then ends the script.
  using _interrupt = stopClustersOnSignal(mc, {
    onSignal: (signal) => console.log(`\n${signal}: stopping the clusters at every site…`),
    exit: true,
  });
  const workers = Number(args.workers);
  console.log(`Starting a cluster of ${workers} workers at ${where.join(" and ")}…`);
  const started = Date.now();
  const outcomes = await mc.newCluster({ worker_cores: 1 }, {
    sites: where,
    adapt: { minimum: workers, maximum: workers },
  });
  for (const o of outcomes) if (!o.ok) throw new Error(`${o.site}: ${o.error.message}`);
  await Promise.all(where.map((s) => mc.site(s).cluster.waitForWorkers(workers)));
  console.log(`Clusters ready after ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  // Our own Python, importable on every worker of every site (also workers that join later).
  for (const o of await mc.uploadFile(new URL("./flood_severity.py", import.meta.url))) {
    if (!o.ok) throw new Error(`${o.site}: ${o.error.message}`);
  }

  // The notebook's steps, each routed by its dataset's location.
  const floodedArea = flood.sum().mul(20).mul(20).div(1000); // flood_map.sum() * 20 * 20 / 1000
  const areaPerDay = flood.sum(["y", "x"]).mul(20 * 20).div(1e6); // km² per day
  const lastMap = flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" })
    .median().gt(0).astype("float32");
  const accumulated = rain.sel({ lat: py.slice(31, 23), lon: py.slice(65, 71) })
    .cumsum("time").mul(1000).isel({ time: -1 });
  // flood_severity.classify(share): the uploaded module, per 500 m cell of the last day.
  const severity = flood.isel({ time: -1 }).coarsen({ x: 25, y: 25 }, { boundary: "trim" })
    .mean().call("pipe", py.fn("flood_severity.classify"));

  console.log("Computing at each dataset's site (in parallel)…");
  const computing = Date.now();
  // A live bar per site on stderr (plain lines when stderr is not a terminal).
  const results = await mc.computeAll([floodedArea, areaPerDay, lastMap, accumulated, severity], {
    onProgress: new TerminalProgress().onProgress,
  });
  console.log(`Done in ${((Date.now() - computing) / 1000).toFixed(1)} s.\n`);
  const [area, perDay, map, rainfall, classes] = results.map((o) => {
    if (!o.ok) throw o.error;
    return o.value;
  });
  const [at, , mapAt, rainAt] = results.map((o) => o.site);

  console.log(`  flooded area (${at})  ${(area as number).toFixed(0)}  (sum * 20 * 20 / 1000)`);
  const days = asArray(perDay).coords.time.values as Date[];
  const km2 = asArray(perDay).values.toNested() as number[];
  console.log(`  flooded km² per day (${at}):`);
  days.forEach((d, i) => console.log(`    ${d.toISOString().slice(0, 10)}  ${km2[i].toFixed(1)}`));
  const cells = (asArray(map).values.toNested() as number[][]).flat();
  const share = cells.filter((v) => v > 0).length / cells.length;
  console.log(
    `  last flood map (${mapAt})  ${asArray(map).dims.join("×")} = ` +
      `${asArray(map).values.shape.join("×")}, ${
        (100 * share).toFixed(1)
      } % of 500 m cells flooded`,
  );
  const counts = [0, 0, 0, 0];
  for (const c of (asArray(classes).values.toNested() as number[][]).flat()) {
    if (!Number.isNaN(c)) counts[c]++;
  }
  const names = ["dry", "minor", "moderate", "severe"]; // flood_severity.NAMES
  console.log(
    `  flood severity per 500 m cell (${mapAt}, flood_severity.py): ` +
      counts.map((n, c) => `${names[c]} ${n}`).join(", "),
  );
  const mm = (asArray(rainfall).values.toNested() as number[][]).flat();
  const mean = mm.reduce((a, b) => a + b, 0) / mm.length;
  console.log(
    `  accumulated rainfall (${rainAt})  mean ${mean.toFixed(0)} (× 1000) over the region`,
  );
  // Combined here, from the small results of both sites.
  console.log(
    `  combined here: flooded area per unit of rain  ${((area as number) / mean).toFixed(3)}`,
  );
  if (args.out) {
    await Deno.mkdir(args.out, { recursive: true });
    for (
      const [name, result, colorMap] of [
        ["flood-map.png", map, "blues"],
        ["accumulated-rain.png", rainfall, "viridis"],
      ] as const
    ) {
      const path = join(args.out, name);
      await Deno.writeFile(path, await quickLookPng(asArray(result), { colorMap }));
      console.log(`  wrote ${path}`);
    }
  }

  console.log("\nDashboards:");
  for (const [site, link] of Object.entries(mc.dashboardLinks())) {
    console.log(`  ${site.padEnd(8)} ${link}`);
  }
  console.log("\nShutting the clusters down…");
  for (const o of await mc.shutdown()) {
    console.log(`  ${o.site}: ${o.ok ? o.value : `FAILED: ${o.error.message}`}`);
  }
} finally {
  await stopReplica?.();
}
