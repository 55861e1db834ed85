/**
 * The seed notebook ("Stack Service - Dask") as a script: log in at DEDL's Keycloak, open every
 * site's dataset by URL (only the metadata is read here; each dataset names its site in its
 * `location` attribute), start a Dask cluster at those sites in parallel, compute a reduction of
 * each dataset where it lives, print the results and the dashboards, and shut every cluster down
 * (also on Ctrl-C). No site is named in the code: every dataset routes itself.
 *
 *   deno task demo                                   # on the local two-site replica
 *   deno task demo -- --desp                         # the same, as the replica's DESP user
 *   deno run -A examples/multisite_demo.ts --username me \
 *     --dataset <zarr url> --dataset <zarr url>       # on DEDL (asks for the password)
 *
 * Options: `--replica` (start the local replica if needed and use it; stop it afterwards if this
 * script started it), `--desp` (log in with a DESP account: DESP's password and, if DESP asks,
 * a one-time code; the DESP token is exchanged at DEDL), `--sites <bridges.json file or URL>`,
 * `--issuer <url>`, `--username <name>`, `--dataset <zarr URL or path>` (repeatable),
 * `--variable <name>` (default `t2m`).
 * @module
 */
import { parseArgs } from "node:util";
import {
  MultiCluster,
  OidcAuth,
  openDataset,
  type SiteRegistry,
  stopClustersOnSignal,
} from "../mod.ts";
import { TerminalProgress } from "../lib/cli/mod.ts";
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

/** Where to log in, which sites and datasets: the local replica, or DEDL (or a given registry). */
async function setup(): Promise<
  {
    login: () => Promise<OidcAuth>;
    sites: SiteRegistry | string | undefined;
    datasets: string[];
    stopReplica?: () => Promise<void>;
  }
> {
  const account = args.desp ? "DESP" : "DEDL";
  if (!args.replica) {
    if (args.dataset.length === 0) throw new Error("name the datasets: --dataset <zarr url> ...");
    const username = args.username ?? prompt(`Your ${account} username:`);
    if (!username) throw new Error(`a ${account} username is needed (--username)`);
    return {
      // Password (and for DESP a one-time code, when asked) on the terminal, without echo.
      login: () =>
        args.desp
          ? OidcAuth.desp({ issuer: args.issuer, username })
          : OidcAuth.password({ issuer: args.issuer, username }),
      sites: args.sites,
      datasets: args.dataset,
    };
  }
  const replica = await openReplicaSession();
  const datasets = args.dataset.length > 0
    ? args.dataset
    : Object.values(replica.datasetUrls).map((urls) => urls.temperature);
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
  // xr.open_zarr(url) for every dataset at once: only metadata, read here.
  const opened = await Promise.all(datasets.map((url) => openDataset(url)));
  for (const ds of opened) {
    const v = ds.variables[args.variable];
    console.log(
      `  ${String(ds.location).padEnd(10)} ${args.variable}[${v?.dims.join(", ")}] ` +
        `${ds.attrs.title ?? ""}  ${ds.url}`,
    );
  }

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

  const where = [...new Set(opened.map((ds) => ds.location).filter((l) => l !== undefined))];
  console.log(`Starting a cluster at ${where.join(", ")} (in parallel)…`);
  const started = Date.now();
  const outcomes = await mc.newCluster({}, {
    sites: where,
    onProgress: (site, e) => {
      if (e.kind === "status") console.log(`  ${site}: ${e.status}`);
    },
  });
  for (const o of outcomes) {
    console.log(`  ${o.site}: ${o.ok ? `cluster ${o.value.name}` : `FAILED: ${o.error.message}`}`);
  }
  console.log(`Clusters ready after ${((Date.now() - started) / 1000).toFixed(1)} s.`);

  // Reduced where the data is; only three numbers per dataset travel back.
  const fields = opened.map((ds) => ds.var(args.variable));
  // A live bar per site on stderr while they run (plain lines when stderr is not a terminal).
  const results = await mc.computeAll(fields.flatMap((f) => [f.mean(), f.min(), f.max()]), {
    onProgress: new TerminalProgress().onProgress,
  });

  console.log(`\n${args.variable}, each dataset computed at its own site:`);
  const means: number[] = [];
  for (let i = 0; i < fields.length; i++) {
    const [mean, min, max] = results.slice(3 * i, 3 * i + 3);
    if (!mean.ok || !min.ok || !max.ok) {
      const failed = [mean, min, max].find((r) => !r.ok);
      console.log(
        `  ${fields[i].location}: FAILED: ${failed && !failed.ok && failed.error.message}`,
      );
      continue;
    }
    means.push(mean.value);
    console.log(
      `  ${String(mean.site).padEnd(12)} mean ${mean.value.toFixed(3)}  min ` +
        `${min.value.toFixed(3)}  max ${max.value.toFixed(3)}`,
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
