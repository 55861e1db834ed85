/**
 * The seed notebook ("Stack Service - Dask") as a script: log in at DEDL's Keycloak, start a
 * Dask cluster at every site in parallel, open each site's dataset where it lives, compute a
 * per-site reduction routed by the dataset's `location` attribute, print the results and the
 * dashboards, and shut every cluster down (also on Ctrl-C).
 *
 *   deno task demo                                   # on the local two-site replica
 *   deno task demo -- --desp                         # the same, as the replica's DESP user
 *   deno run -A examples/multisite_demo.ts --username me \
 *     --dataset central=<zarr url> --dataset lumi=<zarr url>   # on DEDL (asks for the password)
 *
 * Options: `--replica` (start the local replica if needed and use it; stop it afterwards if this
 * script started it), `--desp` (log in with a DESP account: DESP's password and, if DESP asks,
 * a one-time code; the DESP token is exchanged at DEDL), `--sites <bridges.json file or URL>`,
 * `--issuer <url>`, `--username <name>`, `--dataset <site>=<zarr path or URL>` (repeatable),
 * `--variable <name>` (default `t2m`).
 * @module
 */
import { parseArgs } from "node:util";
import { MultiCluster, OidcAuth, py, type SiteRegistry, stopClustersOnSignal } from "../mod.ts";
import { openReplicaSession } from "./replica_session.ts";

const { values: args } = parseArgs({
  // `deno task demo -- --desp` hands the `--` on; the options after it are options all the same.
  args: Deno.args.filter((a) => a !== "--"),
  options: {
    replica: { type: "boolean", default: false },
    desp: { type: "boolean", default: false },
    sites: { type: "string" },
    issuer: { type: "string" },
    username: { type: "string" },
    dataset: { type: "string", multiple: true, default: [] },
    variable: { type: "string", default: "t2m" },
  },
});

/** Where to log in and which sites to use: the local replica, or DEDL (or a given registry). */
async function setup(): Promise<
  {
    login: () => Promise<OidcAuth>;
    sites: SiteRegistry | string | undefined;
    datasets: Record<string, string>;
    stopReplica?: () => Promise<void>;
  }
> {
  const datasets: Record<string, string> = {};
  for (const pair of args.dataset) {
    const [site, path] = pair.split(/=(.*)/s);
    if (!site || !path) throw new Error(`--dataset wants <site>=<path or URL>, got ${pair}`);
    datasets[site] = path;
  }
  const account = args.desp ? "DESP" : "DEDL";
  if (!args.replica) {
    const username = args.username ?? prompt(`Your ${account} username:`);
    if (!username) throw new Error(`a ${account} username is needed (--username)`);
    return {
      // Password (and for DESP a one-time code, when asked) on the terminal, without echo.
      login: () =>
        args.desp
          ? OidcAuth.desp({ issuer: args.issuer, username })
          : OidcAuth.password({ issuer: args.issuer, username }),
      sites: args.sites,
      datasets,
    };
  }
  const replica = await openReplicaSession();
  for (const [site, s] of Object.entries(replica.endpoints.sites)) datasets[site] ??= s.dataset;
  // The replica's DESP user without a second factor: an account that exists only at DESP.
  const despUser = replica.endpoints.desp.users.find((u) => !u.totp_secret)!;
  return {
    login: args.desp
      ? () =>
        OidcAuth.desp({
          issuer: replica.endpoints.issuer,
          despIssuer: replica.endpoints.desp.issuer,
          username: despUser.username,
          password: despUser.password,
        })
      : replica.login,
    sites: replica.endpoints.sites,
    datasets,
    stopReplica: replica.close,
  };
}

const { login, sites, datasets, stopReplica } = await setup();
try {
  await using auth = await login();
  console.log(`Logged in as ${auth.username}${args.desp ? " (DESP account)" : ""}.`);

  await using mc = await MultiCluster.connect({ auth, sites });
  // Ctrl-C (or SIGTERM) stops the clusters at every site, then ends the script.
  using _interrupt = stopClustersOnSignal(mc, {
    onSignal: (signal) => console.log(`\n${signal}: stopping the clusters at every site…`),
    exit: true,
  });
  for (const s of mc.status()) {
    console.log(
      `  ${s.site.padEnd(12)} ${s.available ? `gateway ${s.version}` : `DOWN: ${s.error}`}`,
    );
  }

  console.log("Starting a cluster at every site (in parallel)…");
  const started = Date.now();
  const outcomes = await mc.newCluster({}, {
    onProgress: (site, e) => {
      if (e.kind === "status") console.log(`  ${site}: ${e.status}`);
    },
  });
  for (const o of outcomes) {
    console.log(`  ${o.site}: ${o.ok ? `cluster ${o.value.name}` : `FAILED: ${o.error.message}`}`);
  }
  console.log(`Clusters ready after ${((Date.now() - started) / 1000).toFixed(1)} s.`);

  // One lazy xarray dataset per site, tagged with the site it lives at.
  const ready = outcomes.filter((o) => o.ok).map((o) => o.site);
  const nodes = ready.filter((site) => datasets[site]).map((site) => {
    const field = py.call(
      py.fn("xarray.open_zarr"),
      datasets[site],
      py.kwargs({ consolidated: false, chunks: null }),
    ).item(args.variable).withAttrs({ location: site });
    // Reduced where the data is; only one number per site travels back.
    return py.call(
      py.fn("builtins.dict"),
      py.kwargs({
        mean: field.method("mean").method("item"),
        min: field.method("min").method("item"),
        max: field.method("max").method("item"),
        computed_at: py.call(py.fn("os.getenv"), "DEDL_SITE"),
      }),
    ).withAttrs({ location: site });
  });
  const results = await mc.computeAll(nodes);

  console.log(`\nMean of ${args.variable}, each computed at its own site:`);
  const means: number[] = [];
  for (const r of results) {
    if (!r.ok) {
      console.log(`  ${r.site}: FAILED: ${r.error.message}`);
      continue;
    }
    const v = r.value as { mean: number; min: number; max: number; computed_at: string };
    means.push(v.mean);
    console.log(
      `  ${String(r.site).padEnd(12)} mean ${v.mean.toFixed(3)}  min ${v.min.toFixed(3)}  ` +
        `max ${v.max.toFixed(3)}  (computed at ${v.computed_at})`,
    );
  }
  if (means.length > 1) {
    const overall = means.reduce((a, b) => a + b, 0) / means.length;
    console.log(`  combined locally: mean of the site means ${overall.toFixed(3)}`);
  }

  console.log("\nDashboards:");
  for (const [site, link] of Object.entries(mc.dashboardLinks())) {
    console.log(`  ${site.padEnd(12)} ${link}`);
  }
  console.log("\nShutting the clusters down…");
  for (const o of await mc.shutdown()) {
    console.log(`  ${o.site}: ${o.ok ? o.value : `FAILED: ${o.error.message}`}`);
  }
} finally {
  await stopReplica?.();
}
