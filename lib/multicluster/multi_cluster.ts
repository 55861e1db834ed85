/**
 * The DEDL multi-site layer: one gateway per site, a cluster per site started in parallel, and
 * computations routed to the site named by their `location` attribute.
 * @module
 */
import { JUPYTER_DISPLAY, type MimeBundle, withTimeout } from "../../base/mod.ts";
import type { TokenSource } from "../auth/mod.ts";
import {
  ClusterNotFound,
  ClusterNotRunning,
  type ClusterOptionValues,
  type ClusterProgress,
  type ClusterReport,
  type ClusterStatus,
  CreateAnswerLost,
  Gateway,
  type GatewayCluster,
  GatewayUnavailable,
} from "../gateway/mod.ts";
import {
  type Client,
  ClientClosed,
  type ClientOptions,
  Collection,
  ConnectionLost,
  type Future,
  GatewayClusterNotFound,
  InvalidModuleSyntax,
  type ModuleSource,
  type Node,
  type ProgressListener,
  type ProgressOptions,
  type ProgressState,
  type ResultOptions,
  TaskCancelled,
  type TaskOptions,
  type UploadedModule,
  type UploadFileOptions,
} from "../../protocol/mod.ts";
import { ClusterJournal, defaultJournalDir, type JournalEntry } from "./cluster_journal.ts";
import { type ModuleFile, readModuleFile } from "../../protocol/internal.ts";
import { MissingLocation, SiteUnavailable, UnknownLocation } from "./errors.ts";
import { resolveSiteRegistry, type SiteConfig, type SiteRegistry } from "./registry.ts";
import { isSiteComputation, type SiteComputation } from "./site_computation.ts";
import { isEndingProcess, stopClustersOnSignal } from "./stop_on_signal.ts";
import {
  ClientReconnected,
  JournalUnavailable,
  type MultiClusterWarning,
  OrphanedClusters,
} from "./warnings.ts";
import { CallProgress, type SiteProgressMember } from "./site_progress.ts";
import { displayableSites, sitesBundle, workerSummary } from "./sites_display.ts";

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
   * Called with each warning, with the site it concerns: a site's scheduler connection reports
   * (e.g. workers running other package versions than their scheduler), clusters left by
   * processes that are gone ({@link OrphanedClusters}, at connect), a journal that cannot be
   * written. Nothing is printed otherwise.
   */
  readonly onWarning?: (site: string, warning: MultiClusterWarning) => void;
  /**
   * The folder of the local journal of clusters this machine's processes started (see
   * `cluster_journal.ts`): a cluster is recorded as soon as its gateway names it and forgotten
   * once stopped, so that clusters of killed processes are found at the next connect. Default
   * `$DEDL_DASK_JOURNAL`, else `~/.cache/dedl-dask/clusters`; `false` keeps none.
   */
  readonly journal?: string | false;
  /** The `fetch` for gateway requests. Default: the global one. */
  readonly fetch?: typeof fetch;
  /**
   * Refuse to send access tokens to a site's gateway over plain HTTP (`InsecureGateway`); by
   * default they are sent after one `CleartextToken` warning per site.
   */
  readonly requireHttps?: boolean;
  /**
   * Progress of every `compute` and `computeAll` call that has no `onProgress` of its own, per
   * site (e.g. the CLI's terminal bars for `dedl-dask run`). Default: none (nothing polled).
   */
  readonly onComputeProgress?: ProgressListener;
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
  /**
   * Why the site is unavailable, why its cluster could not be started, or why the cluster it
   * held was let go (its gateway reports it ended).
   */
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

/** A cluster that was stopped: its name and its last status. */
export interface StoppedCluster {
  /** The cluster's name. */
  readonly name: string;
  /** `STOPPED` (or `FAILED`) once confirmed, `STOPPING` if the wait ran out first. */
  readonly status: ClusterStatus;
}

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

/**
 * Settings of {@link MultiCluster.compute} and {@link MultiCluster.computeAll}. With
 * `onProgress`, each site the call computes at gets its own reports (`site` set, one `id` per
 * site): the tasks of every computation of the call at that site, summed, at most every
 * `progressIntervalMs`, and one final report once they all ended — before the call returns.
 */
export interface ComputeOptions extends ResultOptions, TaskOptions, ProgressOptions {
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
  /** Why the cluster this object held was let go (its gateway reports it ended). */
  letGo?: string;
  /** A new connection being made for {@link client}, whose connection was lost. */
  reconnecting?: Promise<Client>;
  /** Settles once the gateway answered the create request of a start under way. */
  creating?: Promise<void>;
  /** A cluster created by a start under way, not yet handed over as {@link cluster}. */
  starting?: string;
  /** Clusters this site's gateway left by processes that are gone (found at connect). */
  orphans: JournalEntry[];
  /**
   * Clusters of this process whose start failed and which could not be stopped then (the
   * gateway did not answer): {@link MultiCluster.shutdown} stops them.
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
  readonly #onComputeProgress: ProgressListener | undefined;
  readonly #journal: ClusterJournal | undefined;
  readonly #account: string;
  #journalFailed = false;
  /** The listeners of the deprecated `handleSignals` option. */
  #signalGuard: Disposable | undefined;
  #shuttingDown: Promise<SiteOutcome<ClusterStatus>[]> | undefined;
  /** Modules uploaded with {@link uploadFile}: every cluster started later gets them too. */
  readonly #uploads: ModuleFile[] = [];

  private constructor(
    sites: Map<string, SiteState>,
    options: MultiClusterOptions,
    journal: ClusterJournal | undefined,
  ) {
    this.#sites = sites;
    this.#clientOptions = options.client ?? {};
    this.#onWarning = options.onWarning;
    this.#journal = journal;
    this.#account = options.auth.identity;
    this.#onComputeProgress = options.onComputeProgress;
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
          requireHttps: options.requireHttps,
          onWarning: options.onWarning && ((w) => options.onWarning!(id, w)),
        }),
        available: false,
        orphans: [],
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
    const journalDir = options.journal === false
      ? undefined
      : options.journal ?? defaultJournalDir();
    const journal = journalDir ? new ClusterJournal(journalDir) : undefined;
    const mc = new MultiCluster(sites, options, journal);
    await mc.#findOrphans();
    if (options.handleSignals) mc.#signalGuard = stopClustersOnSignal(mc, { exit: true });
    return mc;
  }

  /** Reads the journal for this account's clusters at these sites whose process is gone. */
  async #findOrphans(): Promise<void> {
    if (!this.#journal) return;
    let orphans: JournalEntry[];
    try {
      orphans = await this.#journal.orphans();
    } catch {
      return; // no journal to read (e.g. no --allow-read there): nothing known
    }
    await Promise.all([...this.#sites.values()].map(async (state) => {
      const candidates = orphans.filter((o) =>
        o.account === this.#account && o.gateway === state.gateway.address
      );
      if (candidates.length === 0) return;
      state.orphans = await this.#stillActive(state, candidates);
      if (state.orphans.length > 0) {
        this.#onWarning?.(state.site, new OrphanedClusters(state.site, state.orphans));
      }
    }));
  }

  /**
   * The journal's orphans that the site still runs; the others (stopped meanwhile, e.g. with
   * `dedl-dask stop --all`) are forgotten. All are kept when the site cannot tell.
   */
  async #stillActive(state: SiteState, candidates: JournalEntry[]): Promise<JournalEntry[]> {
    if (!state.available) return candidates;
    let active: Set<string>;
    try {
      const reports = await state.gateway.listClusters({ status: ["PENDING", "RUNNING"] });
      active = new Set(reports.map((r) => r.name));
    } catch {
      return candidates;
    }
    const gone = candidates.filter((o) => !active.has(o.name));
    await Promise.all(gone.map((o) => this.#journal?.forget(o).catch(() => {})));
    return candidates.filter((o) => active.has(o.name));
  }

  /**
   * Clusters of this account at these sites that processes of this machine started and left
   * running when they died (killed, crashed): found in the local journal at connect.
   */
  orphans(): JournalEntry[] {
    return [...this.#sites.values()].flatMap((s) => s.orphans);
  }

  /**
   * Stops the {@link orphans} (all sites in parallel) and forgets them.
   * @returns One outcome per orphaned cluster: its name and final status, or why it failed.
   */
  async stopOrphans(): Promise<SiteOutcome<StoppedCluster>[]> {
    return await Promise.all(
      [...this.#sites.values()].flatMap((state) =>
        state.orphans.map(async (entry): Promise<SiteOutcome<StoppedCluster>> => {
          try {
            const status = await state.gateway.stopCluster(entry.name);
            await this.#journal?.forget(entry).catch(() => {});
            state.orphans = state.orphans.filter((o) => o !== entry);
            return { site: state.site, ok: true, value: { name: entry.name, status } };
          } catch (e) {
            return { site: state.site, ok: false, error: e as Error };
          }
        })
      ),
    );
  }

  /**
   * Every site of the registry with what is known of it. In a notebook the list shows as a
   * table with dashboard links.
   */
  status(): SiteStatus[] {
    return displayableSites([...this.#sites.values()].map((s) => ({
      site: s.site,
      name: s.config.name,
      address: s.config.address,
      available: s.available,
      ...(s.version ? { version: s.version } : {}),
      ...(s.error ? { error: s.error.message, failure: s.error } : {}),
      ...(!s.error && s.letGo ? { error: s.letGo } : {}),
      ...(s.cluster ? { cluster: s.cluster.name, dashboardLink: s.cluster.dashboardLink } : {}),
    })));
  }

  /**
   * In a Deno Jupyter notebook, `mc` shows as a table of its sites — status, cluster, workers
   * (asked from each scheduler, 5 s at most) and a clickable dashboard link — like Python's
   * cluster widget.
   */
  async [JUPYTER_DISPLAY](): Promise<MimeBundle> {
    const workers = new Map<string, Awaited<ReturnType<typeof workerSummary>> | Error>();
    await Promise.all([...this.#sites.values()].map(async (s) => {
      if (!s.client) return;
      try {
        workers.set(s.site, await workerSummary(s.client));
      } catch (e) {
        workers.set(s.site, e as Error);
      }
    }));
    return sitesBundle(this.status(), workers);
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
        state.letGo = undefined;
        return { site: state.site, ok: true, value: cluster };
      } catch (e) {
        // Stopped by a signal's shutdown while starting: the process is about to exit.
        if (isEndingProcess(this)) return await new Promise<never>(() => {});
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
    const onProgress = settings.onProgress
      ? (event: ClusterProgress) => settings.onProgress!(state.site, event)
      : undefined;
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
    cluster ??= await this.#create(state, options, settings, onProgress);
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
      try {
        // Modules uploaded before (or while) this cluster started, in upload order.
        for (let i = 0; i < this.#uploads.length; i++) {
          const m = this.#uploads[i];
          await connected.value.uploadFile({ name: m.name, source: m.data });
        }
      } catch (e) {
        await connected.value.close().catch(() => {});
        throw e;
      }
      state.client = connected.value;
    } catch (e) {
      state.cluster = undefined;
      // A cluster that cannot be stopped now is stopped by shutdown() (see #create).
      await this.#stop(state, cluster.name, () => cluster!.shutdown())
        .catch(() => state.strays.add(cluster!.name));
      throw e;
    }
    return cluster;
  }

  /**
   * Creates a cluster at a site, tracked from the moment its gateway names it (in `starting`
   * and the journal), so that a shutdown during the start — on a signal, say — stops it too.
   */
  async #create(
    state: SiteState,
    options: ClusterOptionValues,
    settings: MultiNewClusterOptions,
    onProgress: ((event: ClusterProgress) => void) | undefined,
  ): Promise<GatewayCluster> {
    let answered!: () => void;
    state.creating = new Promise((resolve) => answered = resolve);
    let created: string | undefined;
    try {
      const cluster = await state.gateway.newCluster(options, {
        onProgress,
        startTimeoutMs: settings.startTimeoutMs,
        onCreated: (name) => {
          created = name;
          state.starting = name;
          answered();
          this.#record(state, name);
        },
        // Another program of this machine's cluster is never taken for a lost create's.
        isTracked: this.#journal &&
          ((name) => this.#journal!.tracked(state.gateway.address, name)),
      });
      return cluster;
    } catch (e) {
      // The gateway created it, its answer was lost, and stopping it failed: kept for shutdown().
      if (e instanceof CreateAnswerLost && e.unstopped) {
        this.#record(state, e.unstopped);
        state.strays.add(e.unstopped);
      }
      // The gateway stops what it created on most failures; a stop twice is harmless, a leak not.
      // When the gateway cannot be reached for it (found by tests/faults: an API link frozen
      // after the create answer), the cluster would run on unseen until the process ends:
      // shutdown() tries again.
      if (created) await this.#stop(state, created).catch(() => state.strays.add(created!));
      throw e;
    } finally {
      answered();
      if (state.starting === created) state.starting = undefined;
    }
  }

  /** Records a created cluster in the journal; a journal that fails is reported once. */
  #record(state: SiteState, name: string): void {
    const journal = this.#journal;
    if (!journal) return;
    const entry = {
      site: state.site,
      gateway: state.gateway.address,
      name,
      account: this.#account,
    };
    journal.record(entry).catch((e) => {
      if (this.#journalFailed) return;
      this.#journalFailed = true;
      this.#onWarning?.(state.site, new JournalUnavailable(journal.dir, String(e?.message ?? e)));
    });
  }

  /** Stops a cluster of this process at a site and forgets it in the journal. */
  async #stop(
    state: SiteState,
    name: string,
    stop: () => Promise<ClusterStatus> = () => state.gateway.stopCluster(name),
  ): Promise<ClusterStatus> {
    const status = await stop();
    await this.#forget(state, name);
    return status;
  }

  /** Removes this process's journal entry of a cluster that no longer runs. */
  async #forget(state: SiteState, name: string): Promise<void> {
    await this.#journal?.forget({ pid: Deno.pid, gateway: state.gateway.address, name })
      .catch(() => {});
  }

  /**
   * Makes your own Python module importable at every site, like `client.uploadFile` on each
   * site's cluster (workers that join later included), and on every cluster started afterwards
   * with {@link newCluster}. Uploading a module of the same file name again replaces it.
   *
   * ```ts
   * await mc.uploadFile("./flood_severity.py"); // before or after newCluster
   * await mc.compute(py.call("flood_severity.classify", [0.3]).withAttrs({ location: "lumi" }));
   * ```
   * @returns One outcome per site that has a cluster now (in registry order); a site's failure
   *   (e.g. {@link ModuleImportFailed}: a package its workers lack) does not stop the others. A
   *   module with a syntax error is not kept for later clusters.
   * @throws {InvalidModule} when the file cannot be read or is no importable module name.
   */
  async uploadFile(
    source: ModuleSource,
    options: UploadFileOptions = {},
  ): Promise<SiteOutcome<UploadedModule>[]> {
    const module = await readModuleFile(source);
    const earlier = this.#uploads.findIndex((m) => m.name === module.name);
    if (earlier >= 0) this.#uploads.splice(earlier, 1);
    this.#uploads.push(module);
    const held = [...this.#sites.values()].filter((s) => s.client);
    const outcomes = await Promise.all(held.map(async (s): Promise<SiteOutcome<UploadedModule>> => {
      try {
        const value = await (await this.#liveClient(s)).uploadFile(
          { name: module.name, source: module.data },
          options,
        );
        return { site: s.site, ok: true, value };
      } catch (e) {
        return { site: s.site, ok: false, error: e as Error };
      }
    }));
    if (outcomes.some((o) => !o.ok && o.error instanceof InvalidModuleSyntax)) {
      const i = this.#uploads.indexOf(module);
      if (i >= 0) this.#uploads.splice(i, 1);
    }
    return outcomes;
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
   * A site's gateway, cluster and client: the seed's `dedl_dask.cluster["central"]`. The client
   * is the one held now: if its connection was lost, it stays closed, while this object's own
   * calls ({@link compute}, {@link computeAll}, {@link withSite}, {@link uploadFile}) first
   * connect to the cluster again (reported as {@link ClientReconnected}).
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
   * site's cluster. A client whose connection was lost is connected again first.
   * @throws {UnknownLocation} for a site the registry lacks.
   * @throws {SiteUnavailable} when the site is down, has no cluster yet, or its cluster cannot
   *   be reached again after a lost connection (one its gateway reports ended is let go, so
   *   that {@link newCluster} starts another).
   */
  async withSite<T>(site: string, fn: (handle: SiteHandle) => Promise<T> | T): Promise<T> {
    const handle = this.site(site);
    return await fn({ ...handle, client: await this.#liveClient(this.#state(site)) });
  }

  /**
   * The site's client; if its connection was lost while the cluster is still held, a new
   * connection first (one for all the calls that find it lost at once).
   */
  async #liveClient(state: SiteState): Promise<Client> {
    const client = state.client;
    if (!client || !state.cluster) throw this.#unavailable(state);
    if (!client.closed) return client;
    state.reconnecting ??= this.#reconnect(state, state.cluster, client).finally(() => {
      state.reconnecting = undefined;
    });
    return await state.reconnecting;
  }

  async #reconnect(state: SiteState, cluster: GatewayCluster, lost: Client): Promise<Client> {
    let client: Client;
    try {
      client = await cluster.getClient(this.#siteClientOptions(state.site));
    } catch (e) {
      let reason = `the connection to its cluster ${cluster.name} was lost and cannot be made ` +
        `again (${(e as Error).message})`;
      // The proxy knows no such cluster, or the gateway's report is no longer RUNNING: ask the
      // gateway whether it ended (a refused or cut connection tells nothing of that).
      const ended = e instanceof GatewayClusterNotFound || e instanceof ClusterNotRunning;
      const gone = ended ? await this.#goneStatus(state, cluster.name) : null;
      if (gone && state.cluster === cluster) {
        await this.#letGo(state, cluster.name, gone);
        reason += `; the gateway ${gone}, so it is let go: newCluster() starts another`;
      }
      throw new SiteUnavailable(state.site, reason, { cause: e });
    }
    if (state.client !== lost || state.cluster !== cluster) {
      // shutdown() let go of the cluster meanwhile.
      await client.close().catch(() => {});
      throw this.#unavailable(state);
    }
    state.client = client;
    this.#onWarning?.(state.site, new ClientReconnected(state.site, cluster.name));
    return client;
  }

  /**
   * What the gateway says of a cluster that has ended ("reports it STOPPED", "… FAILED", "knows
   * no such cluster"), or `null` while it may still run or the gateway does not answer.
   */
  async #goneStatus(state: SiteState, name: string): Promise<string | null> {
    try {
      const { status } = await state.gateway.getCluster(name);
      return status === "STOPPED" || status === "FAILED" ? `reports it ${status}` : null;
    } catch (e) {
      return e instanceof ClusterNotFound ? "knows no such cluster" : null;
    }
  }

  /**
   * Forgets a cluster stopped behind this object's back (an idle timeout, another session, a
   * gateway that forgot it), so that newCluster() starts another; `gone` is what its gateway says.
   */
  async #letGo(state: SiteState, name: string, gone: string): Promise<void> {
    state.cluster = undefined;
    state.client = undefined;
    state.letGo = `its cluster ${name} ended (the gateway ${gone}): call newCluster() to start ` +
      "another";
    await this.#forget(state, name);
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
    const progress = this.#callProgress(options);
    let site: string;
    try {
      site = this.locate(target, options);
    } catch (e) {
      await progress?.join(options.site ?? "-").settle("failed");
      throw e;
    }
    return await this.#computeAt(target, site, options, progress?.join(site));
  }

  /**
   * Computes `target` at `site`; with `member`, its progress goes to that site's report, which
   * has its final report before this returns.
   */
  async #computeAt(
    target: ComputeTarget,
    site: string,
    options: ComputeOptions,
    member: SiteProgressMember | undefined,
  ): Promise<unknown> {
    const { onProgress: _, ...rest } = options;
    const settings: ComputeOptions = member ? { ...rest, onProgress: member.onProgress } : rest;
    let client: Client;
    try {
      client = await this.#liveClient(this.#state(site));
    } catch (e) {
      await member?.settle("failed");
      // A signal's shutdown may have let go of the site's cluster just before this call.
      if (isEndingProcess(this)) return await new Promise<never>(() => {});
      throw e;
    }
    let future: Future | undefined;
    try {
      let value: unknown;
      if (isSiteComputation(target)) {
        value = await target.computeOn(client, settings);
      } else {
        future = target instanceof Collection
          ? await client.computeCollection(target, settings)
          : client.compute(target, settings);
        value = await future.result(settings);
      }
      await member?.settle("finished");
      return value;
    } catch (e) {
      await member?.settle(endStateOf(e));
      // Shutting down after a signal closes the clients under running work; when the process
      // exits once the clusters are stopped, the caller must not see (and die of) that error.
      if (isEndingProcess(this)) return await new Promise<never>(() => {});
      throw e;
    } finally {
      future?.release();
    }
  }

  #callProgress(options: ComputeOptions): CallProgress | undefined {
    const listener = options.onProgress ?? this.#onComputeProgress;
    return listener ? new CallProgress(listener, options.progressIntervalMs) : undefined;
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
    const progress = this.#callProgress(options);
    // Every computation joins its site's report before any starts, so that a site's final
    // report waits for all of them.
    const planned = targets.map((target) => {
      try {
        const site = this.locate(target, options);
        return { target, site, member: progress?.join(site) };
      } catch (e) {
        return { target, error: e as Error };
      }
    });
    const outcomes = await Promise.all(planned.map(async (p): Promise<ComputeOutcome> => {
      if ("error" in p) return { site: undefined, ok: false, error: p.error! };
      try {
        const value = await this.#computeAt(
          p.target,
          p.site,
          { ...options, site: p.site },
          p.member,
        );
        return { site: p.site, ok: true, value };
      } catch (e) {
        return { site: p.site, ok: false, error: e as Error };
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
   * parallel, and any cluster of a failed start that could not be stopped then (its gateway did
   * not answer). Idempotent; sites that never started a cluster are fine; what could not be
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
    // A create request under way names its cluster within the API timeout: wait for the name.
    await Promise.all([...this.#sites.values()].map((s) => s.creating));
    const held = [...this.#sites.values()].filter((s) =>
      s.cluster || s.client || s.starting || s.strays.size
    );
    const outcomes = await Promise.all(held.map(async (s): Promise<SiteOutcome<ClusterStatus>> => {
      try {
        await s.client?.close().catch(() => {});
        s.client = undefined;
        let status: ClusterStatus = "STOPPED";
        for (const name of s.strays) {
          await this.#stop(s, name);
          s.strays.delete(name);
        }
        // Still starting: stopped by name (its start then fails as stopped).
        if (s.starting && s.starting !== s.cluster?.name) status = await this.#stop(s, s.starting);
        const cluster = s.cluster;
        if (cluster) status = await this.#stop(s, cluster.name, () => cluster.shutdown());
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
        : state.letGo ?? "no cluster started there yet: call newCluster() first",
      { cause: state.error },
    );
  }
}

/** How a computation that threw ended, for its final progress report. */
function endStateOf(error: unknown): Exclude<ProgressState, "running"> {
  if (error instanceof TaskCancelled) return "cancelled";
  if (error instanceof ConnectionLost || error instanceof ClientClosed) return "lost";
  return "failed";
}
