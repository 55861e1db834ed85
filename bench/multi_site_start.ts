/**
 * Bench 4 — starting a cluster at several sites: ours (`MultiCluster.newCluster`: all sites in
 * parallel, each cluster adapted to its site's bounds and a client connected) against the seed's
 * sequential loop in Python (`gateway.new_cluster()`, `cluster.adapt(min, max)`,
 * `cluster.get_client()` per site), and against ours at one site at a time. Site sets: the
 * replica's two sites, and N gateways of the bench's own on loopback (simulated sites). Real
 * sites are separate data centres whose cluster start uses none of the client's cores. Simulated
 * sites share this machine's: with `inprocess` (the default) each site runs its scheduler and
 * workers inside its gateway process, so a start spawns and imports nothing and costs a site a
 * fraction of the CPU time — the figure comes close to the client's concurrency, though the
 * sites still share the cores with each other and with anything else running; with `process`
 * each cluster spawns a scheduler and worker processes, as the replica's sites do, and their
 * interpreter starts contend for the cores. The client's own CPU time is shown beside. Login and probes come before the
 * timer; every cluster is stopped after it. Target: ours <= 1.2 × the slowest single site.
 * @module
 */
import type { BenchContext, SimBackend } from "./bench_context.ts";
import type { BenchFixtures } from "./fixtures.ts";
import { alternate, type ChildRun, type Impl, median, runChild } from "./harness.ts";
import { meets, peaks, spread } from "./report.ts";
import type { SiteRegistry } from "../mod.ts";

const TARGET = { max: 1.2 };

const SIM_LABEL: Record<SimBackend, string> = {
  inprocess: "clusters in-process",
  process: "cluster processes",
};

/** Runs the multi-site bench and adds its rows to the summary. */
export async function multiSiteStart(ctx: BenchContext): Promise<void> {
  const { fx, settings } = ctx;
  if (settings.replicaSites) {
    const sites: SiteRegistry = {};
    for (const [id, s] of Object.entries(fx.endpoints.sites)) {
      sites[id] = {
        name: s.name,
        address: s.address,
        proxy_address: s.proxy_address,
        default_config: s.default_config,
      };
    }
    await siteSet(ctx, `replica's ${Object.keys(sites).length} sites`, sites);
  }
  if (settings.sites === 0) return;
  for (const backend of settings.simBackends) {
    await siteSet(
      ctx,
      `${settings.sites} simulated sites (${SIM_LABEL[backend]})`,
      await fx.simulatedSites(settings.sites, backend),
    );
  }
}

async function siteSet(ctx: BenchContext, label: string, sites: SiteRegistry): Promise<void> {
  const { fx, summary, settings } = ctx;
  const ids = Object.keys(sites);
  const ours = (only: string[]) => oursChild(fx, pick(sites, only));
  const single = new Map<string, number[]>(ids.map((id) => [id, []]));
  const singleBusy: number[] = [];
  const runs = await alternate(settings.reps, async (impl: Impl): Promise<ChildRun> => {
    if (impl === "python") return await pythonChild(fx, sites);
    // Ours at one site at a time first (the baseline), then at all sites at once.
    for (const id of ids) {
      const run = await ours([id]);
      single.get(id)!.push(Number(run.result.ms));
      singleBusy.push(run.machineBusy);
    }
    return await ours(ids);
  });
  const multi = runs.ours.map((r) => Number(r.result.ms));
  const sequential = runs.python.map((r) => Number(r.result.ms));
  const slowest = Math.max(...[...single.values()].map(median));
  const slowestId = ids.find((id) => median(single.get(id)!) === slowest);
  const rss = peaks(runs.ours.map((r) => r.peakRssKiB), runs.python.map((r) => r.peakRssKiB));
  // How busy the machine was while starting, and how much of it was the client's own CPU time:
  // a busy machine with an idle client means the sites (sharing this machine's cores here, with
  // each other and with whatever else runs on it) bound the start, not the client.
  const busy = (rs: ChildRun[]) =>
    `cpu ${(100 * median(rs.map((r) => r.machineBusy))).toFixed(0)}%, client cpu ${
      median(rs.map((r) => Number(r.result.cpuMs))).toFixed(0)
    } ms`;
  summary.add({
    figure: `start ${label}: ours parallel vs seed's loop`,
    ours: `${spread(multi, "ms")}, ${busy(runs.ours)}`,
    python: `${spread(sequential, "ms")}, ${busy(runs.python)}`,
    ratio: (median(multi) / median(sequential)).toFixed(2),
    target: "-",
    met: "-",
    peakRss: rss,
  });
  const ratio = median(multi) / slowest;
  summary.add({
    figure: `start ${label}: ours ÷ slowest single site`,
    ours: spread(multi, "ms"),
    python: `single ${slowestId}: ${slowest.toFixed(0)} ms, ` +
      `cpu ${(100 * median(singleBusy)).toFixed(0)}%`,
    ratio: ratio.toFixed(2),
    target: "<= 1.2",
    met: meets(ratio, TARGET),
    peakRss: rss,
  });
}

function pick(sites: SiteRegistry, ids: string[]): SiteRegistry {
  return Object.fromEntries(ids.map((id) => [id, sites[id]]));
}

function oursChild(fx: BenchFixtures, sites: SiteRegistry): Promise<ChildRun> {
  return runChild(fx.python, {
    impl: "ours",
    script: "ours_multi_site.ts",
    args: [],
    config: { sites, user: fx.user },
    onEvent: (e) => trackCluster(fx, sites, e),
  });
}

function pythonChild(fx: BenchFixtures, sites: SiteRegistry): Promise<ChildRun> {
  const ep = fx.endpoints;
  const user = ep.users[fx.user];
  return runChild(fx.python, {
    impl: "python",
    args: ["multi-site"],
    config: {
      sites: Object.entries(sites).map(([id, s]) => ({
        id,
        address: s.address,
        proxy_address: s.proxy_address ?? s.address,
        min: s.default_config?.min ?? 2,
        max: s.default_config?.max ?? 10,
      })),
      token_url: ep.token_url,
      client_id: ep.client_id,
      username: user.username,
      password: user.password,
    },
    onEvent: (e) => trackCluster(fx, sites, e),
  });
}

function trackCluster(fx: BenchFixtures, sites: SiteRegistry, e: Record<string, unknown>): void {
  if (e.event !== "cluster") return;
  const site = sites[String(e.site)];
  if (site) fx.track(site.address, site.proxy_address ?? site.address, String(e.name));
}
