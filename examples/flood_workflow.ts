/**
 * The flood-style workflow of DEDL's 2022 Pakistan flood notebook as a script: the flooded area
 * is computed where the flood maps live (central), the accumulated rainfall where the
 * precipitation lives (LUMI), each over the whole cluster of its site — every chunk of the large
 * Zarr stores is a task of that site's scheduler — and the two numbers are combined here.
 *
 *   deno run -A examples/flood_workflow.ts --replica       # on the local two-site replica
 *   deno run -A examples/flood_workflow.ts --username me \
 *     --flood <zarr url at central> --precipitation <zarr url at lumi>   # on DEDL
 *
 * Options: `--replica` (start the local replica if needed; stop it afterwards if this script
 * started it), `--sites <bridges.json file or URL>`, `--issuer <url>`, `--username <name>`,
 * `--flood <zarr>`, `--precipitation <zarr>`, `--workers <n>` (per site, default 4).
 * @module
 */
import { parseArgs } from "node:util";
import { MultiCluster, OidcAuth, py, type SiteRegistry, stopClustersOnSignal } from "../mod.ts";
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
  return {
    login: replica.login,
    sites: replica.endpoints.sites,
    flood: args.flood ?? replica.datasets.central.flood,
    precipitation: args.precipitation ?? replica.datasets.lumi.precipitation,
    stopReplica: replica.close,
  };
}

const { login, sites, flood, precipitation, stopReplica } = await setup();
try {
  await using auth = await login();
  console.log(`Logged in as ${auth.username}.`);
  await using mc = await MultiCluster.connect({ auth, sites, only: ["central", "lumi"] });
  // Ctrl-C (or SIGTERM) stops the clusters at every site, then ends the script.
  using _interrupt = stopClustersOnSignal(mc, {
    onSignal: (signal) => console.log(`\n${signal}: stopping the clusters at every site…`),
    exit: true,
  });

  const workers = Number(args.workers);
  console.log(`Starting a cluster of ${workers} workers at central and at lumi…`);
  const started = Date.now();
  for (
    const o of await mc.newCluster({ worker_cores: 1 }, {
      adapt: { minimum: workers, maximum: workers },
    })
  ) {
    if (!o.ok) throw new Error(`${o.site}: ${o.error.message}`);
  }
  await Promise.all(["central", "lumi"].map((s) => mc.site(s).cluster.waitForWorkers(workers)));
  console.log(`Clusters ready after ${((Date.now() - started) / 1000).toFixed(1)} s.`);

  // flood_map = open_zarr(...)["flood"].assign_attrs(location="central")
  // flood_map.sum() * 20 * 20 / 1000 — `.data` makes the result a number, not a DataArray.
  const floodMap = py.call("xarray.open_zarr", flood, py.kwargs({ consolidated: false }))
    .item("flood");
  const floodedArea = py.collection(
    floodMap.method("sum").method("__mul__", 20).method("__mul__", 20).method("__truediv__", 1000)
      .attr("data"),
  ).withAttrs({ location: "central" });

  // Rainfall summed over time at every grid point, averaged over the region (mm).
  const rain = py.call("xarray.open_zarr", precipitation, py.kwargs({ consolidated: false }))
    .item("precipitation");
  const accumulatedRain = py.collection(rain.method("sum", "time").method("mean").attr("data"))
    .withAttrs({ location: "lumi" });

  console.log("Computing the flooded area at central and the rainfall at lumi (in parallel)…");
  const computing = Date.now();
  const [area, rainfall] = await mc.computeAll([floodedArea, accumulatedRain]);
  if (!area.ok) throw area.error;
  if (!rainfall.ok) throw rainfall.error;
  console.log(`Done in ${((Date.now() - computing) / 1000).toFixed(1)} s.\n`);

  const a = area.value as number;
  const r = rainfall.value as number;
  console.log(
    `  flooded area (central)           ${a.toFixed(0)}  (flood_map.sum() * 20 * 20 / 1000)`,
  );
  console.log(`  accumulated rainfall (lumi)      ${r.toFixed(1)} mm (mean over the region)`);
  console.log(`  combined here: area per mm rain  ${(a / r).toFixed(1)}`);

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
