/**
 * A running gateway cluster: its addresses, scaling, waiting for workers, the scheduler
 * connection through the gateway's TLS/SNI proxy, and shutdown.
 * @module
 */
import { JUPYTER_DISPLAY, type MimeBundle, sleep } from "../../base/mod.ts";
import {
  Client,
  type ClientOptions,
  ConnectFailed,
  GatewayClusterNotFound,
} from "../../protocol/mod.ts";
import { clusterSchedulerAddress } from "./address.ts";
import type { ClusterReport, ClusterStatus } from "./cluster_report.ts";
import { clusterBundle } from "./cluster_display.ts";
import { ClusterNotRunning, InvalidWorkerCount, WorkersTimeout } from "./errors.ts";
import type { AdaptOptions, Gateway, ScaleResult } from "./gateway.ts";
import { type ProgressCallback, report } from "./progress.ts";

/** Default deadline of {@link GatewayCluster.waitForWorkers}. */
export const DEFAULT_WORKERS_TIMEOUT_MS = 300_000;
/** Pause between two worker counts. */
const WORKER_POLL_MS = 500;

/** Options of {@link GatewayCluster.waitForWorkers}. */
export interface WaitForWorkersOptions {
  /** Deadline in milliseconds. Default 300 000 (5 minutes). */
  readonly timeoutMs?: number;
  /** Receives a `workers` event at the start and whenever the count changes. */
  readonly onProgress?: ProgressCallback;
}

/**
 * A cluster on a {@link Gateway}, obtained from `gateway.newCluster()` or `gateway.connect()`.
 * With `await using`, a cluster from `newCluster` is shut down at the end of the scope.
 */
export class GatewayCluster implements AsyncDisposable {
  #report: ClusterReport;

  /** @internal Made by {@link Gateway}. */
  constructor(
    /** The gateway the cluster runs on. */
    readonly gateway: Gateway,
    report: ClusterReport,
    /** Whether disposing this object stops the cluster. */
    readonly shutdownOnDispose: boolean,
  ) {
    this.#report = report;
  }

  /** The cluster's name; `gateway.connect(name)` attaches to it from elsewhere. */
  get name(): string {
    return this.#report.name;
  }

  /** The last status seen (see {@link refresh}). */
  get status(): ClusterStatus {
    return this.#report.status;
  }

  /** The options the cluster runs with, as the gateway reports them. */
  get options(): Readonly<Record<string, unknown>> {
    return this.#report.options;
  }

  /** The dashboard URL through the gateway (`null` once the cluster is no longer running). */
  get dashboardLink(): string | null {
    return this.#report.dashboardLink;
  }

  /** `gateway://proxyhost:port/<name>`: the scheduler behind the gateway's proxy. */
  get schedulerAddress(): string {
    return this.#report.schedulerAddress ??
      clusterSchedulerAddress(this.gateway.endpoints, this.#report.name);
  }

  /** The last report read from the gateway. */
  get report(): ClusterReport {
    return this.#report;
  }

  /** Reads the cluster's current state from the gateway. */
  async refresh(): Promise<ClusterReport> {
    this.#report = await this.gateway.getCluster(this.name);
    return this.#report;
  }

  /** Asks for `count` workers. See {@link Gateway.scaleCluster}. */
  scale(count: number): Promise<ScaleResult> {
    return this.gateway.scaleCluster(this.name, count);
  }

  /** Lets the scheduler scale between bounds. See {@link Gateway.adaptCluster}. */
  adapt(options: AdaptOptions = {}): Promise<ScaleResult> {
    return this.gateway.adaptCluster(this.name, options);
  }

  /**
   * Opens a protocol {@link Client} to the scheduler through the gateway's TLS/SNI proxy, with
   * the cluster's certificate as the only trusted CA and as the client certificate. The caller
   * owns the client and closes it.
   * @throws {ClusterNotRunning} when the cluster is not running.
   * @throws {ConnectFailed} when the proxy closed the connection during the TLS handshake while
   *   the gateway reports the cluster running (the connection was cut on the way).
   */
  async getClient(options: Omit<ClientOptions, "tls"> = {}): Promise<Client> {
    let tls = this.#report.status === "RUNNING" ? this.#report.tlsMaterial() : null;
    if (!tls) tls = (await this.refresh()).tlsMaterial();
    if (this.#report.status !== "RUNNING" || !tls) {
      throw new ClusterNotRunning(this.gateway.address, this.name, `status ${this.status}`);
    }
    try {
      return await Client.connect(this.schedulerAddress, { ...options, tls });
    } catch (e) {
      throw await this.#diagnoseRefusal(e);
    }
  }

  /**
   * The protocol layer reads a connection closed during the TLS handshake as the proxy's way of
   * saying "no such cluster". A connection cut on the way (a reset, a middlebox, a proxy being
   * restarted) looks the same from there, so the gateway is asked: if it reports the cluster
   * RUNNING, that reading would hide the real cause (found by tests/faults).
   */
  async #diagnoseRefusal(e: unknown): Promise<unknown> {
    if (!(e instanceof GatewayClusterNotFound)) return e;
    const status = await this.gateway.getCluster(this.name).then((r) => r.status, () => null);
    if (status !== "RUNNING") return e;
    return new ConnectFailed(
      `the connection to cluster ${this.name} through ${this.gateway.proxyAddress} was closed ` +
        `during the TLS handshake, although the gateway reports the cluster RUNNING: the ` +
        `connection was cut on the way (network, a proxy in between) or the gateway's proxy is ` +
        `restarting; retry later`,
      { cause: e },
    );
  }

  /**
   * Waits until at least `count` workers are connected, asking the scheduler itself.
   * @returns The number of workers connected.
   * @throws {WorkersTimeout} when fewer have joined by the deadline.
   * @throws {InvalidWorkerCount} unless `count` is a non-negative integer.
   */
  async waitForWorkers(count: number, options: WaitForWorkersOptions = {}): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 0) throw new InvalidWorkerCount("count", count);
    const timeoutMs = options.timeoutMs ?? DEFAULT_WORKERS_TIMEOUT_MS;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const client = await this.getClient({
      connectTimeoutMs: Math.max(1, Math.min(10_000, timeoutMs)),
      timeoutMs: Math.max(1, Math.min(30_000, timeoutMs)),
    });
    try {
      let last = -1;
      for (;;) {
        const workers = Object.keys((await client.identity()).workers).length;
        if (workers !== last) {
          last = workers;
          report(options.onProgress, {
            kind: "workers",
            cluster: this.name,
            workers,
            wanted: count,
            elapsedMs: Date.now() - started,
          });
        }
        if (workers >= count) return workers;
        if (Date.now() + WORKER_POLL_MS > deadline) {
          throw new WorkersTimeout(this.name, count, workers, timeoutMs);
        }
        await sleep(WORKER_POLL_MS);
      }
    } finally {
      await client.close();
    }
  }

  /**
   * Stops the cluster and waits until the gateway reports it stopped. Idempotent.
   * @returns The last status seen (see {@link Gateway.stopCluster}).
   */
  async shutdown(options: { readonly timeoutMs?: number } = {}): Promise<ClusterStatus> {
    const status = await this.gateway.stopCluster(this.name, { timeoutMs: options.timeoutMs });
    this.#report = await this.gateway.getCluster(this.name).catch(() => this.#report);
    return status;
  }

  /**
   * In a Deno Jupyter notebook the cluster shows as a table: name, gateway, status, workers,
   * options and a clickable dashboard link (refreshed when shown; 5 s at most).
   */
  [JUPYTER_DISPLAY](): Promise<MimeBundle> {
    return clusterBundle(this);
  }

  /** Stops the cluster if {@link shutdownOnDispose} is set. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.shutdownOnDispose) await this.shutdown();
  }
}
