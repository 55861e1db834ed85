/**
 * The DEDL multi-site layer: one gateway per site, a cluster per site started in parallel, and
 * computations routed to the site named by their `location` attribute.
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import type { TokenSource } from "../auth/mod.ts";
import {
  ClusterFailed,
  type ClusterOptionValues,
  type ClusterProgress,
  type ClusterReport,
  ClusterStartTimeout,
  type ClusterStatus,
  Gateway,
  type GatewayCluster,
  GatewayUnavailable,
} from "../gateway/mod.ts";
import {
  type Client,
  type ClientOptions,
  type ClientWarning,
  Collection,
  type Future,
  type Node,
  type ResultOptions,
  type TaskOptions,
} from "../../protocol/mod.ts";
import { MissingLocation, SiteUnavailable, UnknownLocation } from "./errors.ts";
import { resolveSiteRegistry, type SiteConfig, type SiteRegistry } from "./registry.ts";
import { isSiteComputation, type SiteComputation } from "./site_computation.ts";
import { isEndingProcess, stopClustersOnSignal } from "./stop_on_signal.ts";

/** Settings of {@link MultiCluster.connect}. */
export interface MultiClusterOptions {
  /** Where access tokens come from, e.g. an `OidcAuth`. */
  readonly auth: TokenSource;
  /**
   * The sites: a registry object, or a bridges.json file path / URL (the replica's
   * `.replica/endpoints.json` works too). Default: `$DEDL_DASK_SITES`, else DEDL's five bridges.
   */
  readonly sites?: SiteRegistry | string | URL;
  /** Only these site ids of the registry. Default: all. */
  readonly only?: readonly string[];
  /** Deadline of the first probe of each site in milliseconds. Default 10 000. */
  readonly probeTimeoutMs?: number;
  /** Budget of each gateway API call in milliseconds. Default: the gateway's (30 000). */
  readonly timeoutMs?: number;
  /**
   * Stop every cluster this object holds when the process gets SIGINT or SIGTERM, then exit
   * (130 / 143); a second signal exits at once. Default `false` (it was `true` before 0.2).
   * @deprecated Call {@linkcode stopClustersOnSignal}`(mc, { exit: true })`, which this option
   *   now does, and which says when it acts. Removed in 0.3.
   */
  readonly handleSignals?: boolean;
  /** Options for the scheduler connections (timeouts, heartbeats). */
  readonly client?: Omit<ClientOptions, "tls">;
  /**
   * Called with each warning a site's scheduler connection reports (e.g. workers running other
   * package versions than their scheduler), with the site's id. Nothing is printed otherwise.
   */
  readonly onWarning?: (site: string, warning: ClientWarning) => void;
  /** The `fetch` for gateway requests. Default: the global one. */
  readonly fetch?: typeof fetch;
}

/** What is known of one site. */
export interface SiteStatus {
  /** Site id, the value a `location` attribute names. */
  readonly site: string;
  /** Human-readable name from the registry. */
  readonly name: string;
  /** The gateway's API address. */
  readonly address: string;
  /** Whether the gateway answered the probe. */
  readonly available: boolean;
  /** The gateway's version, when it answered. */
  readonly version?: string;
  /** Why the site is unavailable, or why its cluster could not be started. */
  readonly error?: string;
  /** The error behind {@link SiteStatus.error}, typed (e.g. `GatewayUnavailable`). */
  readonly failure?: Error;
  /** The cluster this object holds at the site, if any. */
  readonly cluster?: string;
  /** That cluster's dashboard. */
  readonly dashboardLink?: string | null;
}

/** The outcome of one site's part of a multi-site operation. */
export type SiteOutcome<T> =
  | { readonly site: string; readonly ok: true; readonly value: T }
  | { readonly site: string; readonly ok: false; readonly error: Error };

/** The outcome of one computation of {@link MultiCluster.computeAll}, in input order. */
export type ComputeOutcome<T = unknown> =
  | { readonly site: string | undefined; readonly ok: true; readonly value: T }
  | { readonly site: string | undefined; readonly ok: false; readonly error: Error };

/** What {@link MultiCluster.compute} takes: a node, a collection, or a {@link SiteComputation}. */
export type ComputeTarget = Node | Collection | SiteComputation;

/** The result type of a compute target: a site computation's own, else `unknown`. */
export type ComputedValue<T> = T extends SiteComputation<infer R> ? R : unknown;

/** Settings of {@link MultiCluster.newCluster}. */
export interface MultiNewClusterOptions {
  /** Only these sites. Default: every available site. */
  readonly sites?: readonly string[];
  /**
   * Attach to a cluster already RUNNING at a site (the newest) instead of starting one; a site
   * without one gets a new cluster. Default `false`.
   */
  readonly reuse?: boolean;
  /**
   * Adaptive scaling bounds; default each site's `default_config` (DEDL: 2..10). `false` leaves
   * scaling alone.
   */
  readonly adapt?: { readonly minimum: number; readonly maximum: number } | false;
  /** Deadline for each cluster to become RUNNING. Default: the gateway's (5 minutes). */
  readonly startTimeoutMs?: number;
  /** Progress of every site's start, tagged with the site. */
  readonly onProgress?: (site: string, event: ClusterProgress) => void;
}

/** Settings of {@link MultiCluster.compute}. */
export interface ComputeOptions extends ResultOptions, TaskOptions {
  /** The attribute that names the site. Default `"location"`. */
  readonly locationKey?: string;
  /** Run at this site regardless of the node's attributes. */
  readonly site?: string;
}

/** One site's gateway, cluster and scheduler connection. */
export interface SiteHandle {
  /** Site id. */
  readonly site: string;
  /** The registry entry. */
  readonly config: SiteConfig;
  /** The site's gateway client. */
  readonly gateway: Gateway;
  /** The cluster this object holds at the site. */
  readonly cluster: GatewayCluster;
  /** The protocol client connected to that cluster's scheduler. */
  readonly client: Client;
}

interface SiteState {
  readonly site: string;
  readonly config: SiteConfig;
  readonly gateway: Gateway;
  available: boolean;
  version?: string;
  error?: Error;
  cluster?: GatewayCluster;
  client?: Client;
  /**
   * Clusters the gateway named for a start of ours that failed, and that could not be stopped
   * then (the gateway was unreachable): {@link MultiCluster.shutdown} stops them.
   */
  readonly strays: Set<string>;
}

/**
 * Dask clusters at several DEDL sites, used as one: the TypeScript counterpart of the seed
 * notebook's `DaskMultiCluster` and EODC's `dedl_stack_client`, with parallel starts, per-site
 * outcomes and no orphaned clusters.
 *
 * @example
 * ```ts
 * await using mc = await MultiCluster.connect({ auth });
 * await mc.newCluster({ worker_cores: 2 });
 * const t2m = py.call(py.fn("xarray.open_zarr"), "s3://…").item("t2m")
 *   .withAttrs({ location: "lumi" });
 * console.log(await mc.compute(t2m.method("mean").method("item")));
 * ```
 */
export class MultiCluster implements AsyncDisposable {
  readonly #sites: Map<string, SiteState>;
  readonly #clientOptions: Omit<ClientOptions, "tls">;
  readonly #onWarning: MultiClusterOptions["onWarning"];
  /** The listeners of the deprecated `handleSignals` option. */
  #signalGuard: Disposable | undefined;
  #shuttingDown: Promise<SiteOutcome<ClusterStatus>[]> | undefined;

  private constructor(
    sites: Map<string, SiteState>,
    clientOptions: Omit<ClientOptions, "tls">,
    onWarning: MultiClusterOptions["onWarning"],
  ) {
    this.#sites = sites;
    this.#clientOptions = clientOptions;
    this.#onWarning = onWarning;
  }

  /**
   * Builds one gateway client per site and probes them all in parallel. Sites that do not
   * answer are recorded in {@link status} (never printed); the others stay usable.
   * @throws {InvalidSiteRegistry} when the registry cannot be read.
   * @throws {UnknownLocation} when `only` names a site the registry lacks.
   */
  static async connect(options: MultiClusterOptions): Promise<MultiCluster> {
    const registry = await resolveSiteRegistry(options.sites);
    const ids = options.only ?? Object.keys(registry);
    for (const id of ids) {
      if (!registry[id]) throw new UnknownLocation(id, Object.keys(registry));
    }
    const sites = new Map<string, SiteState>();
    for (const id of ids) {
      const config = registry[id];
      sites.set(id, {
        site: id,
        config,
        gateway: new Gateway({
          address: config.address,
          proxyAddress: config.proxy_address,
          auth: options.auth,
          timeoutMs: options.timeoutMs,
          fetch: options.fetch,
        }),
        available: false,
        strays: new Set(),
      });
    }
    const probeTimeoutMs = options.probeTimeoutMs ?? 10_000;
    await Promise.all([...sites.values()].map(async (state) => {
      try {
        state.version = await withTimeout(
          state.gateway.version(),
          probeTimeoutMs,
          () =>
            new GatewayUnavailable(state.gateway.address, `no answer within ${probeTimeoutMs} ms`),
        );
        state.available = true;
      } catch (e) {
        state.error = e as Error;
      }
    }));
    const mc = new MultiCluster(sites, options.client ?? {}, options.onWarning);
    if (options.handleSignals) mc.#signalGuard = stopClustersOnSignal(mc, { exit: true });
    return mc;
  }

  /** Every site of the registry with what is known of it. */
  status(): SiteStatus[] {
    return [...this.#sites.values()].map((s) => ({
      site: s.site,
      name: s.config.name,
      address: s.config.address,
      available: s.available,
      ...(s.version ? { version: s.version } : {}),
      ...(s.error ? { error: s.error.message, failure: s.error } : {}),
      ...(s.cluster ? { cluster: s.cluster.name, dashboardLink: s.cluster.dashboardLink } : {}),
    }));
  }

  /** Ids of the sites whose gateway answered. */
  get availableSites(): string[] {
    return [...this.#sites.values()].filter((s) => s.available).map((s) => s.site);
  }

  /** The gateway client of a site (available or not). */
  gateway(site: string): Gateway {
    return this.#state(site).gateway;
  }

  /**
   * Starts (or with `reuse`, attaches to) a cluster at every available site in parallel, sets
   * its adaptive bounds and connects a scheduler client. One site's failure does not stop the
   * others; a cluster that started but could not be set up is stopped again.
   * @returns One outcome per site, in registry order.
   */
  async newCluster(
    options: ClusterOptionValues = {},
    settings: MultiNewClusterOptions = {},
  ): Promise<SiteOutcome<GatewayCluster>[]> {
    const ids = settings.sites ?? this.availableSites;
    const states = ids.map((id) => this.#state(id));
    return await Promise.all(states.map(async (state): Promise<SiteOutcome<GatewayCluster>> => {
      if (!state.available) {
        return { site: state.site, ok: false, error: this.#unavailable(state) };
      }
      if (state.cluster) {
        return { site: state.site, ok: true, value: state.cluster };
      }
      try {
        const cluster = await this.#startAt(state, options, settings);
        state.error = undefined;
        return { site: state.site, ok: true, value: cluster };
      } catch (e) {
        state.error = e as Error;
        return { site: state.site, ok: false, error: e as Error };
      }
    }));
  }

  async #startAt(
    state: SiteState,
    options: ClusterOptionValues,
    settings: MultiNewClusterOptions,
  ): Promise<GatewayCluster> {
    // The name the gateway gave a cluster we start (its first progress event follows the create
    // answer), so that a start that fails after it cannot leave the cluster behind.
    let starting = false;
    let named: string | undefined;
    const onProgress = (event: ClusterProgress) => {
      if (starting) named ??= event.cluster;
      settings.onProgress?.(state.site, event);
    };
    let cluster: GatewayCluster | undefined;
    if (settings.reuse) {
      const running = await state.gateway.listClusters({ status: "RUNNING" });
      const newest = running.sort((a, b) =>
        (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0)
      )[0];
      if (newest) {
        cluster = await state.gateway.connect(newest.name, {
          onProgress,
          startTimeoutMs: settings.startTimeoutMs,
        });
      }
    }
    try {
      starting = !cluster;
      cluster ??= await state.gateway.newCluster(options, {
        onProgress,
        startTimeoutMs: settings.startTimeoutMs,
      });
    } catch (e) {
      // Gateway.newCluster tries once to stop a cluster it could not bring up; when the gateway
      // could not be reached for that (found by tests/faults: an API link frozen during the
      // start), the cluster would run on unseen. shutdown() tries again.
      if (named !== undefined && !(e instanceof ClusterFailed)) {
        const stopped = e instanceof ClusterStartTimeout && e.stopped;
        if (!stopped) state.strays.add(named);
      }
      throw e;
    }
    // Recorded at once so that shutdown() (e.g. on a signal) sees it whatever happens next.
    state.cluster = cluster;
    try {
      const bounds = settings.adapt ?? {
        minimum: state.config.default_config?.min ?? 2,
        maximum: state.config.default_config?.max ?? 10,
      };
      // Independent requests (the gateway's API, the scheduler through the proxy): at once.
      const [adapted, connected] = await Promise.allSettled([
        bounds ? cluster.adapt(bounds) : Promise.resolve(),
        cluster.getClient(this.#siteClientOptions(state.site)),
      ]);
      if (adapted.status === "rejected") {
        if (connected.status === "fulfilled") await connected.value.close().catch(() => {});
        throw adapted.reason;
      }
      if (connected.status === "rejected") throw connected.reason;
      state.client = connected.value;
    } catch (e) {
      state.cluster = undefined;
      // As above: a cluster that cannot be stopped now is stopped by shutdown().
      await cluster.shutdown().catch(() => state.strays.add(cluster.name));
      throw e;
    }
    return cluster;
  }

  /**
   * The clusters the current user has at every available site (PENDING and RUNNING), whether
   * this object started them or not.
   */
  async clusters(): Promise<SiteOutcome<ClusterReport[]>[]> {
    return await Promise.all(
      [...this.#sites.values()].filter((s) => s.available).map(async (s) => {
        try {
          return { site: s.site, ok: true as const, value: await s.gateway.listClusters() };
        } catch (e) {
          return { site: s.site, ok: false as const, error: e as Error };
        }
      }),
    );
  }

  /**
   * A site's gateway, cluster and client: the seed's `dedl_dask.cluster["central"]`.
   * @throws {UnknownLocation} for a site the registry lacks.
   * @throws {SiteUnavailable} when the site is down or has no cluster yet.
   */
  site(site: string): SiteHandle {
    const state = this.#state(site);
    if (!state.available || !state.cluster || !state.client) throw this.#unavailable(state);
    return {
      site,
      config: state.config,
      gateway: state.gateway,
      cluster: state.cluster,
      client: state.client,
    };
  }

  /**
   * Runs `fn` against one site's handle (EODC's `as_current`): everything inside works on that
   * site's cluster.
   */
  async withSite<T>(site: string, fn: (handle: SiteHandle) => Promise<T> | T): Promise<T> {
    return await fn(this.site(site));
  }

  /**
   * Computes a {@link SiteComputation} — e.g. a dataset expression (`openDataset(url).var(…)…`)
   * — at the site its attributes name (`location`, i.e. its dataset's; or `options.site`) with
   * that site's client, and resolves to its own result (for a dataset expression: the values as
   * data, or a number).
   * @throws {MissingLocation} when it names no site (the message says what it is).
   * @throws {UnknownLocation} when it names a site the registry lacks.
   * @throws {SiteUnavailable} when that site is down or has no cluster.
   */
  compute<T>(target: SiteComputation<T>, options?: ComputeOptions): Promise<T>;
  /**
   * Computes a node — or a lazy Dask collection made with `py.collection(node)` — at the site
   * named by its `location` attribute (or `options.site`) and returns the decoded result. A
   * collection's chunk tasks run spread over that site's workers (`Client.computeCollection`);
   * `options.timeoutMs` then bounds building its graph and, separately, computing it. The result
   * is released on the cluster afterwards. Task options (`retries`, `workers`, …) apply to a
   * node's tasks; a collection's chunk tasks run with the scheduler's defaults.
   * @throws {GraphBuildError} for invalid task options.
   * @throws {MissingLocation} when the node names no site.
   * @throws {UnknownLocation} when it names a site the registry lacks.
   * @throws {SiteUnavailable} when that site is down or has no cluster.
   * @throws {RemoteError} when the computation fails on the cluster (for a collection, `key` is
   *   the failing chunk's key).
   */
  compute(target: Node | Collection, options?: ComputeOptions): Promise<unknown>;
  async compute(target: ComputeTarget, options: ComputeOptions = {}): Promise<unknown> {
    const { client } = this.site(this.locate(target, options));
    if (isSiteComputation(target)) {
      try {
        return await target.computeOn(client, options);
      } catch (e) {
        if (isEndingProcess(this)) return await new Promise<never>(() => {});
        throw e;
      }
    }
    let future: Future | undefined;
    try {
      future = target instanceof Collection
        ? await client.computeCollection(target, options)
        : client.compute(target, options);
      return await future.result(options);
    } catch (e) {
      // Shutting down after a signal closes the clients under running work; when the process
      // exits once the clusters are stopped, the caller must not see (and die of) that error.
      if (isEndingProcess(this)) return await new Promise<never>(() => {});
      throw e;
    } finally {
      future?.release();
    }
  }

  /**
   * Computes several nodes, collections and site computations (e.g. dataset expressions),
   * freely mixed, each at its own site, concurrently. Results come in input order, typed by
   * target; a failed computation is reported without losing the others.
   */
  async computeAll<const T extends readonly ComputeTarget[]>(
    targets: T,
    options: ComputeOptions = {},
  ): Promise<{ -readonly [K in keyof T]: ComputeOutcome<ComputedValue<T[K]>> }> {
    const outcomes = await Promise.all(targets.map(async (target): Promise<ComputeOutcome> => {
      let site: string | undefined;
      try {
        site = this.locate(target, options);
        const value: unknown = isSiteComputation(target)
          ? await this.compute(target, { ...options, site })
          : await this.compute(target, { ...options, site });
        return { site, ok: true, value };
      } catch (e) {
        return { site, ok: false, error: e as Error };
      }
    }));
    return outcomes as { -readonly [K in keyof T]: ComputeOutcome<ComputedValue<T[K]>> };
  }

  /**
   * The site a node or collection is routed to.
   * @throws {MissingLocation} / {UnknownLocation} as for {@link compute}.
   */
  locate(
    target: ComputeTarget,
    options: Pick<ComputeOptions, "locationKey" | "site"> = {},
  ): string {
    const key = options.locationKey ?? "location";
    const known = [...this.#sites.keys()];
    const location = options.site ?? target.attrs[key];
    if (location === undefined || location === null || location === "") {
      throw new MissingLocation(
        key,
        known,
        isSiteComputation(target) ? target.description : undefined,
      );
    }
    if (typeof location !== "string") {
      throw new UnknownLocation(String(location), known, "is not a site id (a string)");
    }
    if (!this.#sites.has(location)) throw new UnknownLocation(location, known);
    return location;
  }

  /** Dashboard links of the clusters this object holds, by site. */
  dashboardLinks(): Record<string, string> {
    const links: Record<string, string> = {};
    for (const s of this.#sites.values()) {
      if (s.cluster?.dashboardLink) links[s.site] = s.cluster.dashboardLink;
    }
    return links;
  }

  /**
   * Closes every scheduler connection and stops every cluster this object holds, all sites in
   * parallel, and any cluster of a failed start that could not be stopped then (its gateway was
   * unreachable). Idempotent; sites that never started a cluster are fine; what could not be
   * stopped is tried again by the next call.
   * @returns One outcome per site that held a cluster.
   */
  shutdown(): Promise<SiteOutcome<ClusterStatus>[]> {
    this.#shuttingDown ??= this.#shutdown().finally(() => {
      this.#shuttingDown = undefined;
    });
    return this.#shuttingDown;
  }

  async #shutdown(): Promise<SiteOutcome<ClusterStatus>[]> {
    const held = [...this.#sites.values()].filter((s) => s.cluster || s.client || s.strays.size);
    const outcomes = await Promise.all(held.map(async (s): Promise<SiteOutcome<ClusterStatus>> => {
      try {
        await s.client?.close().catch(() => {});
        s.client = undefined;
        for (const name of s.strays) {
          await s.gateway.stopCluster(name);
          s.strays.delete(name);
        }
        const status = s.cluster ? await s.cluster.shutdown() : "STOPPED";
        s.cluster = undefined;
        return { site: s.site, ok: true, value: status };
      } catch (e) {
        return { site: s.site, ok: false, error: e as Error };
      }
    }));
    if (outcomes.every((o) => o.ok)) {
      this.#signalGuard?.[Symbol.dispose]();
      this.#signalGuard = undefined;
    }
    return outcomes;
  }

  /** Same as {@link shutdown}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** The client options of one site: the shared ones, with warnings labelled by the site. */
  #siteClientOptions(site: string): Omit<ClientOptions, "tls"> {
    const onWarning = this.#onWarning;
    if (!onWarning) return this.#clientOptions;
    const shared = this.#clientOptions.onWarning;
    return {
      ...this.#clientOptions,
      onWarning: (warning) => {
        shared?.(warning);
        onWarning(site, warning);
      },
    };
  }

  #state(site: string): SiteState {
    const state = this.#sites.get(site);
    if (!state) throw new UnknownLocation(site, [...this.#sites.keys()]);
    return state;
  }

  #unavailable(state: SiteState): SiteUnavailable {
    if (!state.available) {
      return new SiteUnavailable(
        state.site,
        `its gateway ${state.config.address} did not answer (${state.error?.message ?? "unknown"})`,
        { cause: state.error },
      );
    }
    return new SiteUnavailable(
      state.site,
      state.error
        ? `its cluster could not be started: ${state.error.message}`
        : "no cluster started there yet: call newCluster() first",
      { cause: state.error },
    );
  }
}
