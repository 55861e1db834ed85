/**
 * Our side of the multi-site start benchmark: `MultiCluster.newCluster` — a cluster per site
 * started in parallel, each with its adaptive bounds set and a scheduler client connected — timed
 * from the call to the last site's client. The login and the gateway probes come before the
 * timer; the shutdown after it. The result also carries this process's CPU time over the timed
 * span: far below the span means the client waited on the sites, not on itself.
 *
 *   deno run -A bench/children/ours_multi_site.ts   (configuration: one JSON line on stdin)
 * @module
 */
import process from "node:process";
import { MultiCluster, type SiteRegistry } from "../../mod.ts";
import { replicaLogin } from "../../lib/gateway/testing/replica_login.ts";
import { emit, emitDone, readConfig } from "./child_report.ts";

/** What the runner sends. */
interface MultiSiteConfig {
  /** The sites to start a cluster at (bridges.json shape). */
  readonly sites: SiteRegistry;
  /** Replica user (index in the endpoints file) the clusters are started for. */
  readonly user: number;
}

const config = await readConfig<MultiSiteConfig>();
await using auth = await replicaLogin(config.user);
await using mc = await MultiCluster.connect({ auth, sites: config.sites });
const down = mc.status().filter((s) => !s.available);
if (down.length > 0) throw new Error(`sites not answering: ${JSON.stringify(down)}`);
try {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const outcomes = await mc.newCluster();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const s of mc.status()) if (s.cluster) emit("cluster", { site: s.site, name: s.cluster });
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) {
    throw new Error(`sites failed: ${failed.map((o) => `${o.site}: ${!o.ok && o.error}`)}`);
  }
  emit("result", { ms, cpuMs: (cpu.user + cpu.system) / 1000, sites: outcomes.length });
} finally {
  await mc.shutdown();
}
emitDone();
Deno.exit(0);
