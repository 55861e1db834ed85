/**
 * Test fixture of the fault suite: the replica's sites seen through Toxiproxy. Every site gets two
 * proxies, one in front of its gateway's HTTP API and one in front of its scheduler (TLS/SNI)
 * proxy, and a site registry whose `address` / `proxy_address` point at them, so that everything
 * a `MultiCluster` sends crosses a link the test can slow down, cut or freeze.
 *
 * Afterwards {@link FaultySites.assertNoOrphans} asks each site's gateway directly (not through
 * Toxiproxy) whether a cluster the test started is still alive.
 *
 * ```ts
 * await using sites = await FaultySites.start();
 * await using mc = await MultiCluster.connect({ auth, sites: sites.registry });
 * await sites.scheduler("central").addToxic({ type: "latency", attributes: { latency: 100 } });
 * ```
 * @module
 */
import assert from "node:assert/strict";
import type { TokenSource } from "../../lib/auth/mod.ts";
import { ClusterNotFound, type ClusterProgress, Gateway } from "../../lib/gateway/mod.ts";
import type { MultiCluster, SiteRegistry } from "../../lib/multicluster/mod.ts";
import { readEndpoints, type ReplicaSite } from "../replica/endpoints.ts";
import { type ToxicProxy, Toxiproxy } from "./toxiproxy.ts";

/** The smallest cluster: one worker of one core and 1 GB. */
export const SMALL_CLUSTER = { worker_cores: 1, worker_memory: 1 } as const;
/** Adaptive bounds of {@link SMALL_CLUSTER}: exactly one worker. */
export const ONE_WORKER = { minimum: 1, maximum: 1 } as const;

/** The replica's sites behind Toxiproxy. Dispose to stop Toxiproxy. */
export class FaultySites implements AsyncDisposable {
  /** Cluster names seen in start progress events (see {@link onProgress}). */
  readonly clusters = new Map<string, string>();

  readonly #proxies: ReadonlyMap<string, { api: ToxicProxy; scheduler: ToxicProxy }>;

  private constructor(
    /** The Toxiproxy server. */
    readonly toxiproxy: Toxiproxy,
    /** The replica's own sites (direct addresses). */
    readonly direct: Readonly<Record<string, ReplicaSite>>,
    proxies: ReadonlyMap<string, { api: ToxicProxy; scheduler: ToxicProxy }>,
  ) {
    this.#proxies = proxies;
  }

  /** Starts Toxiproxy with an API and a scheduler proxy for each replica site (or `only`). */
  static async start(only?: readonly string[]): Promise<FaultySites> {
    const ep = await readEndpoints();
    const toxiproxy = await Toxiproxy.start();
    try {
      const proxies = new Map<string, { api: ToxicProxy; scheduler: ToxicProxy }>();
      const direct: Record<string, ReplicaSite> = {};
      for (const id of only ?? Object.keys(ep.sites)) {
        const site = ep.sites[id];
        direct[id] = site;
        proxies.set(id, {
          api: await toxiproxy.proxy(`${id}-api`, new URL(site.address).host),
          scheduler: await toxiproxy.proxy(
            `${id}-scheduler`,
            new URL(site.proxy_address.replace(/^tcp:/, "http:")).host,
          ),
        });
      }
      return new FaultySites(toxiproxy, direct, proxies);
    } catch (e) {
      await toxiproxy[Symbol.asyncDispose]();
      throw e;
    }
  }

  /** A site registry (bridges.json shape) whose addresses are the Toxiproxy listeners. */
  get registry(): SiteRegistry {
    const registry: SiteRegistry = {};
    for (const [id, { api, scheduler }] of this.#proxies) {
      registry[id] = {
        name: this.direct[id].name,
        address: `http://${api.listen}`,
        proxy_address: `tcp://${scheduler.listen}`,
        default_config: this.direct[id].default_config,
      };
    }
    return registry;
  }

  /** The proxy in front of a site's gateway API. */
  api(site: string): ToxicProxy {
    return this.#get(site).api;
  }

  /** The proxy in front of a site's scheduler proxy. */
  scheduler(site: string): ToxicProxy {
    return this.#get(site).scheduler;
  }

  /** Both proxies of a site. */
  both(site: string): ToxicProxy[] {
    const { api, scheduler } = this.#get(site);
    return [api, scheduler];
  }

  /** A `newCluster` progress callback that records the name of every cluster started. */
  onProgress = (site: string, event: ClusterProgress): void => {
    this.clusters.set(event.cluster, site);
  };

  /** Starts a cluster of one small worker at every site of `mc`, its names seen; asserts each started. */
  async startSmallClusters(mc: MultiCluster): Promise<void> {
    const outcomes = await mc.newCluster(SMALL_CLUSTER, {
      adapt: ONE_WORKER,
      onProgress: this.onProgress,
    });
    for (const o of outcomes) assert.ok(o.ok, !o.ok ? `${o.site}: ${o.error.message}` : "");
  }

  /**
   * Asserts, asking each site's gateway directly (un-proxied), that no cluster recorded by
   * {@link onProgress} (nor `extra`) is PENDING, RUNNING or STOPPING. Any that is gets stopped
   * before the assertion fails, so that it does not burden the tests after.
   */
  async assertNoOrphans(auth: TokenSource, extra: Record<string, string> = {}): Promise<void> {
    const all = new Map([...this.clusters, ...Object.entries(extra)]);
    assert.ok(all.size > 0, "the test recorded no cluster to check");
    const orphans: string[] = [];
    for (const [name, site] of all) {
      const gateway = new Gateway({
        address: this.direct[site].address,
        proxyAddress: this.direct[site].proxy_address,
        auth,
        timeoutMs: 10_000,
      });
      try {
        const report = await gateway.getCluster(name);
        if (report.status !== "STOPPED" && report.status !== "FAILED") {
          orphans.push(`cluster ${name} at ${site} is ${report.status}`);
          // Stopped here so that a failing test does not leave it to the next ones.
          await gateway.stopCluster(name).catch(() => {});
        }
      } catch (e) {
        if (!(e instanceof ClusterNotFound)) throw e;
      }
    }
    assert.deepEqual(orphans, [], "orphaned clusters (now stopped by the test)");
  }

  #get(site: string): { api: ToxicProxy; scheduler: ToxicProxy } {
    const proxies = this.#proxies.get(site);
    if (!proxies) throw new Error(`no proxies for site ${site}`);
    return proxies;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.toxiproxy[Symbol.asyncDispose]();
  }
}

/** Peak resident memory while `work` runs, sampled every 20 ms, in bytes. */
export async function peakRss<T>(work: () => Promise<T>): Promise<{ value: T; peak: number }> {
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 20);
  try {
    const value = await work();
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return { value, peak };
  } finally {
    clearInterval(timer);
  }
}

/** Milliseconds `work` takes and its outcome (value or error), never throwing. */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}
