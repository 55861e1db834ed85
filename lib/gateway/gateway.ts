/**
 * The dask-gateway client: options, listing, starting, connecting to, scaling and stopping
 * clusters on one gateway, with a bearer token on every request.
 * @module
 */
import { CleartextTokenGuard } from "./cleartext_tokens.ts";
import { CreateWatch } from "./lost_create.ts";
import type { GatewayWarning } from "./warnings.ts";
import { isPlainObject, sleep } from "../../base/mod.ts";
import { warmUpTls } from "../../protocol/internal.ts";
import type { TokenSource } from "../auth/mod.ts";
import { type GatewayEndpoints, resolveGatewayEndpoints } from "./address.ts";
import { ApiClient, type ApiResponse, serverMessage } from "./api_client.ts";
import { GatewayCluster } from "./cluster.ts";
import { ClusterReport, type ClusterStatus } from "./cluster_report.ts";
import type { CookieJar } from "./cookie_jar.ts";
import {
  ClusterAccessDenied,
  ClusterFailed,
  ClusterNotFound,
  ClusterNotRunning,
  ClusterStartTimeout,
  GatewayUnavailable,
  InvalidOptions,
  InvalidWorkerCount,
  UnexpectedResponse,
} from "./errors.ts";
import { ClusterOptionsSpec, type ClusterOptionValues } from "./options.ts";
import { type ProgressCallback, report } from "./progress.ts";

/**
 * The session cookies of each gateway client, for tests that look at what a real gateway set;
 * not part of the public API (see {@linkcode gatewayCookies}).
 */
const cookieJars = new WeakMap<Gateway, CookieJar>();

/** The session cookies `gateway` holds (dropped whenever its `auth.identity` changes). */
export function gatewayCookies(gateway: Gateway): CookieJar {
  return cookieJars.get(gateway)!;
}

/** Default budget of one API call, retries included. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 30_000;
/** Default deadline for a cluster to become RUNNING. */
export const DEFAULT_CLUSTER_START_TIMEOUT_MS = 300_000;
/** How long the gateway holds a `?wait=1` request before answering with the current state. */
const SERVER_WAIT_MS = 20_000;
/** Pause between polls when the gateway answers at once (e.g. while STOPPING). */
const POLL_MS = 250;

/** Settings of a {@link Gateway}. */
export interface GatewayOptions {
  /**
   * The HTTP API address, including any path prefix, e.g.
   * `https://dask.lumi.data.destination-earth.eu` (bridges.json `address`).
   */
  readonly address: string;
  /**
   * The scheduler proxy, e.g. `tcp://dask.lumi.data.destination-earth.eu:80` (bridges.json
   * `proxy_address`), `gateway://host:port`, `tls://host:port`, `host:port` or a port on the API
   * host. Default: the API's host and port.
   */
  readonly proxyAddress?: string | number;
  /** Where access tokens come from, e.g. an `OidcAuth` from `lib/auth`. */
  readonly auth: TokenSource;
  /** Budget of each API call in milliseconds, retries included. Default 30 000. */
  readonly timeoutMs?: number;
  /**
   * The `fetch` to send requests with, e.g. one bound to a `Deno.HttpClient` with a custom CA or
   * an HTTP proxy. Default: the global `fetch`.
   */
  readonly fetch?: typeof fetch;
  /**
   * Refuse to send access tokens over plain HTTP (to a host other than loopback) with
   * `InsecureGateway`. Default `false`: they are sent, after one `CleartextToken` warning per
   * gateway.
   */
  readonly requireHttps?: boolean;
  /**
   * Called with each warning (`CleartextToken`, `PossibleOrphans`); nothing is printed
   * otherwise.
   */
  readonly onWarning?: (warning: GatewayWarning) => void;
}

/** Options of the waits that end when a cluster is RUNNING. */
export interface StartWaitOptions {
  /** Receives a `status` event at the start of the wait and at every status change. */
  readonly onProgress?: ProgressCallback;
  /** Deadline for the cluster to become RUNNING. Default 300 000 ms (5 minutes). */
  readonly startTimeoutMs?: number;
}

/** Options of {@link Gateway.newCluster}. */
export interface NewClusterOptions extends StartWaitOptions {
  /**
   * Check the options against the gateway's spec before sending them (default `true`). With
   * `false` the gateway judges them; its refusal still arrives as {@link InvalidOptions}.
   */
  readonly validate?: boolean;
  /** Stop the cluster when the returned object is disposed (`await using`). Default `true`. */
  readonly shutdownOnDispose?: boolean;
  /**
   * Once RUNNING, scale to this many workers and wait until they have joined, within the start
   * deadline, reporting `workers` progress events. Default: no workers are asked for.
   */
  readonly workers?: number;
  /**
   * Called with the cluster's name as soon as the gateway has created it, while it is still
   * PENDING: from then on the cluster exists and must be stopped on every way out (e.g. record
   * the name, so that an interrupted start can stop it).
   */
  readonly onCreated?: (name: string) => void;
  /**
   * Whether a live program already tracks a cluster of this account at this gateway (e.g. it is
   * in a journal of this machine's running processes). Asked only when the answer to the create
   * request was lost (see {@link CreateAnswerLost}): a cluster it claims is never taken for the
   * one the request created.
   */
  readonly isTracked?: (name: string) => boolean | Promise<boolean>;
}

/** Options of {@link Gateway.connect}. */
export interface ConnectClusterOptions extends StartWaitOptions {
  /** Stop the cluster when the returned object is disposed. Default `false`: it is not ours. */
  readonly shutdownOnDispose?: boolean;
}

/** Bounds for adaptive scaling. */
export interface AdaptOptions {
  /** Fewest workers (default 0). */
  readonly minimum?: number;
  /** Most workers (default: the gateway's per-cluster limit). */
  readonly maximum?: number;
  /** `false` turns adaptive scaling off. Default `true`. */
  readonly active?: boolean;
}

/** The gateway's answer to a scale or adapt request. */
export interface ScaleResult {
  /** `false` when the gateway changed the request, e.g. capped it at its worker limit. */
  readonly ok: boolean;
  /** The gateway's explanation when `ok` is `false`. */
  readonly message: string | null;
}

/**
 * A client of one dask-gateway.
 *
 * @example
 * ```ts
 * const gateway = new Gateway({
 *   address: "https://dask.lumi.data.destination-earth.eu",
 *   proxyAddress: "tcp://dask.lumi.data.destination-earth.eu:80",
 *   auth,
 * });
 * await using cluster = await gateway.newCluster({ worker_cores: 2 }, {
 *   onProgress: (e) => console.log(e),
 * });
 * await cluster.scale(2);
 * await cluster.waitForWorkers(2, { timeoutMs: 120_000 });
 * ```
 */
export class Gateway {
  /** The resolved API and proxy addresses. */
  readonly endpoints: GatewayEndpoints;
  /** Budget of each API call in milliseconds. */
  readonly timeoutMs: number;
  readonly #api: ApiClient;
  readonly #auth: TokenSource;
  readonly #onWarning: GatewayOptions["onWarning"];
  #spec: { identity: string; spec: ClusterOptionsSpec } | undefined;

  /**
   * Creates a client for one gateway; nothing is sent until the first call.
   * @throws {InvalidGatewayAddress} when an address cannot be used.
   */
  constructor(options: GatewayOptions) {
    this.endpoints = resolveGatewayEndpoints(options.address, options.proxyAddress);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
    this.#auth = options.auth;
    this.#onWarning = options.onWarning;
    this.#api = new ApiClient(this.endpoints, {
      auth: options.auth,
      cleartext: new CleartextTokenGuard(
        new URL(this.endpoints.apiUrl),
        options.requireHttps ?? false,
        options.onWarning,
      ),
      timeoutMs: this.timeoutMs,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    });
    cookieJars.set(this, this.#api.cookies);
  }

  /** The API base URL (no trailing slash). */
  get address(): string {
    return this.endpoints.apiUrl;
  }

  /** The scheduler proxy as `gateway://host:port`. */
  get proxyAddress(): string {
    return this.endpoints.proxyAddress;
  }

  /** The gateway server's version, e.g. `2023.1.1` (DEDL's). Needs no token. */
  async version(): Promise<string> {
    const res = await this.#api.send({
      method: "GET",
      path: "/api/version",
      authenticated: false,
      idempotent: true,
    });
    const version = (this.#expect(res, [200]).json as { version?: unknown })?.version;
    if (typeof version !== "string") {
      throw new UnexpectedResponse(res.url, res.status, "no version in the answer");
    }
    return version;
  }

  /** The gateway's own health check: `pass`, or `fail` (HTTP 503). Needs no token. */
  async health(): Promise<"pass" | "fail"> {
    const res = await this.#api.send({
      method: "GET",
      path: "/api/health",
      authenticated: false,
      idempotent: true,
      acceptStatus: [503],
    });
    const status = (this.#expect(res, [200, 503]).json as { status?: unknown })?.status;
    if (status !== "pass" && status !== "fail") {
      throw new UnexpectedResponse(res.url, res.status, "no pass/fail status in the answer");
    }
    return status;
  }

  /** The cluster options this user may set, with types, bounds, defaults and labels. */
  async clusterOptions(): Promise<ClusterOptionsSpec> {
    const res = await this.#api.send({
      method: "GET",
      path: "/api/v1/options",
      authenticated: true,
      idempotent: true,
    });
    const spec = ClusterOptionsSpec.fromJson(this.#expect(res, [200]).json, res.url);
    this.#spec = { identity: this.#auth.identity, spec };
    return spec;
  }

  /**
   * This user's clusters. Without `status` the gateway lists the active ones (PENDING and
   * RUNNING).
   */
  async listClusters(
    options: {
      readonly status?: ClusterStatus | readonly ClusterStatus[];
      /** Budget of the call. Default: the gateway timeout. */
      readonly timeoutMs?: number;
    } = {},
  ): Promise<ClusterReport[]> {
    const statuses = options.status === undefined ? [] : [options.status].flat();
    const res = await this.#api.send({
      method: "GET",
      path: "/api/v1/clusters/",
      query: statuses.length ? { status: statuses.join(",") } : undefined,
      authenticated: true,
      idempotent: true,
      timeoutMs: options.timeoutMs,
    });
    const body = this.#expect(res, [200]).json;
    if (!isPlainObject(body)) {
      throw new UnexpectedResponse(res.url, res.status, "the cluster list is not an object");
    }
    return Object.values(body).map((c) => ClusterReport.fromJson(c, this.endpoints, res.url));
  }

  /**
   * One cluster's report. With `wait: true` the gateway holds the request until the cluster is
   * RUNNING, up to 20 s, then answers with the current state.
   * @throws {ClusterNotFound} when the gateway has no such cluster.
   * @throws {ClusterAccessDenied} when it belongs to another user.
   */
  async getCluster(
    name: string,
    options: { readonly wait?: boolean; readonly timeoutMs?: number } = {},
  ): Promise<ClusterReport> {
    const res = await this.#api.send({
      method: "GET",
      path: `/api/v1/clusters/${encodeURIComponent(name)}`,
      // `?wait=true` does not wait: the gateway reads the flag as an integer.
      query: options.wait ? { wait: "1" } : undefined,
      authenticated: true,
      idempotent: true,
      timeoutMs: options.timeoutMs ??
        (options.wait ? SERVER_WAIT_MS + this.timeoutMs : this.timeoutMs),
    });
    this.#expectCluster(res, name, [200]);
    return ClusterReport.fromJson(res.json, this.endpoints, res.url);
  }

  /**
   * Starts a cluster and waits until it is RUNNING.
   *
   * @param options Cluster options, checked against the gateway's spec first (see
   *   {@link NewClusterOptions.validate}); fields left out take the gateway's defaults.
   * @throws {InvalidOptions} naming the field, the value and the allowed range.
   * @throws {ClusterFailed} when the cluster fails to start.
   * @throws {ClusterStartTimeout} when it is not RUNNING by the deadline; it is then stopped.
   * @throws {CreateAnswerLost} when the create request may have reached the gateway but its
   *   answer was lost (timeout, connection cut after sending, unreadable answer): the cluster the
   *   gateway created meanwhile, if one is found, has been stopped (see its fields).
   * @throws {WorkersTimeout} when `workers` were asked for and not all joined by the deadline;
   *   the cluster is then stopped.
   */
  async newCluster(
    options: ClusterOptionValues = {},
    settings: NewClusterOptions = {},
  ): Promise<GatewayCluster> {
    const startedAt = Date.now();
    if (settings.workers !== undefined) checkCount("workers", settings.workers);
    // A client through the TLS proxy usually follows: prepare TLS while the gateway answers.
    warmUpTls();
    // No options means the gateway's defaults: nothing to check, so no request for the spec.
    if (settings.validate !== false && Object.keys(options).length > 0) {
      (await this.#optionsSpec()).validate(options);
    }
    let name: string;
    {
      // Were the answer lost, the clusters listed before tell which one the request created.
      using watch = await CreateWatch.start(this, {
        options,
        isTracked: settings.isTracked,
        onWarning: this.#onWarning,
        timeoutMs: this.timeoutMs,
      });
      try {
        name = await this.#submit(options);
      } catch (e) {
        throw await watch.failed(e);
      }
      watch.created(name);
    }
    settings.onCreated?.(name);
    // The gateway records a new cluster as PENDING before it answers.
    report(settings.onProgress, {
      kind: "status",
      cluster: name,
      status: "PENDING",
      elapsedMs: Date.now() - startedAt,
    });
    try {
      const running = await this.#waitUntilRunning(name, settings, startedAt, "PENDING");
      const cluster = new GatewayCluster(this, running, settings.shutdownOnDispose ?? true);
      if (settings.workers !== undefined) {
        await cluster.scale(settings.workers);
        await cluster.waitForWorkers(settings.workers, {
          timeoutMs: Math.max(1, startedAt + startTimeout(settings) - Date.now()),
          onProgress: (e) =>
            report(settings.onProgress, { ...e, elapsedMs: Date.now() - startedAt }),
        });
      }
      return cluster;
    } catch (e) {
      // Whatever went wrong, a cluster the caller never received must not keep running.
      if (!(e instanceof ClusterFailed) && !(e instanceof ClusterStartTimeout)) {
        await this.stopCluster(name, { wait: false, timeoutMs: 5_000 }).catch(() => {});
      }
      throw e;
    }
  }

  /** Sends the create request; returns the new cluster's name. */
  async #submit(options: ClusterOptionValues): Promise<string> {
    const res = await this.#api.send({
      method: "POST",
      path: "/api/v1/clusters/",
      body: { cluster_options: options },
      authenticated: true,
      idempotent: false,
    });
    if (res.status === 422) {
      const message = serverMessage(res) ?? "HTTP 422";
      const spec = await this.#optionsSpec().catch(() => undefined);
      throw spec
        ? spec.serverRefusal(message, options)
        : new InvalidOptions(null, undefined, null, message);
    }
    const name = (this.#expect(res, [201]).json as { name?: unknown })?.name;
    if (typeof name !== "string" || !name) {
      throw new UnexpectedResponse(res.url, res.status, "no cluster name in the answer");
    }
    return name;
  }

  /**
   * Attaches to an existing cluster by name, waiting until it is RUNNING.
   * @throws {ClusterNotFound} when the gateway has no such cluster.
   * @throws {ClusterFailed} when it failed or was stopped.
   * @throws {ClusterStartTimeout} when it is not RUNNING by the deadline (it is left alone).
   */
  async connect(name: string, settings: ConnectClusterOptions = {}): Promise<GatewayCluster> {
    warmUpTls(); // as in newCluster
    const running = await this.#waitUntilRunning(name, settings, Date.now(), null);
    return new GatewayCluster(this, running, settings.shutdownOnDispose ?? false);
  }

  /**
   * Stops a cluster. Stopping an unknown or stopped cluster is not an error.
   *
   * @param options.wait Wait until the gateway reports the cluster STOPPED or FAILED (default
   *   `true`), so that its processes are known to be gone.
   * @param options.timeoutMs Budget for the request and the wait. Default: the gateway timeout.
   * @returns The last status seen: `STOPPED` or `FAILED` when confirmed, `STOPPING` when the
   *   budget ran out first (the gateway still stops it), or the status after the request
   *   when not waiting.
   * @throws {ClusterAccessDenied} when the cluster belongs to another user.
   */
  async stopCluster(
    name: string,
    options: { readonly wait?: boolean; readonly timeoutMs?: number } = {},
  ): Promise<ClusterStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    const res = await this.#api.send({
      method: "DELETE",
      path: `/api/v1/clusters/${encodeURIComponent(name)}`,
      authenticated: true,
      idempotent: true,
      timeoutMs: options.timeoutMs,
    });
    this.#expectCluster(res, name, [204, 200]);
    if (options.wait === false) return "STOPPING";
    for (;;) {
      let status: ClusterStatus;
      try {
        status = (await this.getCluster(name, {
          timeoutMs: Math.max(1, deadline - Date.now()),
        })).status;
      } catch (e) {
        if (e instanceof ClusterNotFound) return "STOPPED"; // records may be purged at once
        if (e instanceof GatewayUnavailable && Date.now() >= deadline) return "STOPPING";
        throw e;
      }
      if (status === "STOPPED" || status === "FAILED") return status;
      if (Date.now() + POLL_MS >= deadline) return status;
      await sleep(POLL_MS);
    }
  }

  /**
   * Asks for `count` workers (adaptive scaling stops).
   * @returns `ok: false` with the gateway's message when it capped the count.
   * @throws {InvalidWorkerCount} unless `count` is a non-negative integer.
   * @throws {ClusterNotRunning} when the cluster is not running.
   */
  async scaleCluster(name: string, count: number): Promise<ScaleResult> {
    checkCount("count", count);
    return await this.#scaleRequest(name, "scale", { count });
  }

  /**
   * Lets the scheduler choose the worker count between `minimum` and `maximum`.
   * @returns `ok: false` with the gateway's message when it capped the bounds.
   * @throws {InvalidWorkerCount} unless the bounds are non-negative integers.
   * @throws {ClusterNotRunning} when the cluster is not running.
   */
  async adaptCluster(name: string, options: AdaptOptions = {}): Promise<ScaleResult> {
    if (options.minimum !== undefined) checkCount("minimum", options.minimum);
    if (options.maximum !== undefined) checkCount("maximum", options.maximum);
    if (
      options.minimum !== undefined && options.maximum !== undefined &&
      options.minimum > options.maximum
    ) {
      throw new InvalidWorkerCount("minimum (not above maximum)", options.minimum);
    }
    return await this.#scaleRequest(name, "adapt", {
      minimum: options.minimum ?? null,
      maximum: options.maximum ?? null,
      active: options.active ?? true,
    });
  }

  async #scaleRequest(name: string, op: "scale" | "adapt", body: unknown): Promise<ScaleResult> {
    const res = await this.#api.send({
      method: "POST",
      path: `/api/v1/clusters/${encodeURIComponent(name)}/${op}`,
      body,
      authenticated: true,
      // Setting a worker target twice has the effect of setting it once.
      idempotent: true,
    });
    if (res.status === 409) {
      throw new ClusterNotRunning(this.address, name, serverMessage(res) ?? "HTTP 409");
    }
    const answer = this.#expectCluster(res, name, [200]).json as { ok?: unknown; msg?: unknown };
    if (typeof answer?.ok !== "boolean") {
      throw new UnexpectedResponse(res.url, res.status, `no "ok" in the ${op} answer`);
    }
    return { ok: answer.ok, message: typeof answer.msg === "string" ? answer.msg : null };
  }

  async #waitUntilRunning(
    name: string,
    settings: StartWaitOptions,
    startedAt: number,
    /** The status already reported for a cluster we submitted; `null` when attaching. */
    submitted: "PENDING" | null,
  ): Promise<ClusterReport> {
    const ours = submitted !== null;
    const timeoutMs = startTimeout(settings);
    const deadline = startedAt + timeoutMs;
    let last: ClusterStatus | null = submitted;
    const timedOut = async (cause?: unknown) => {
      const stopped = ours &&
        await this.stopCluster(name, { wait: false, timeoutMs: 5_000 }).then(
          () => true,
          () => false,
        );
      return new ClusterStartTimeout(this.address, name, last ?? "PENDING", timeoutMs, stopped, {
        cause,
      });
    };
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw await timedOut();
      const asked = Date.now();
      let cluster: ClusterReport;
      try {
        cluster = await this.getCluster(name, {
          wait: last !== "STOPPING",
          timeoutMs: Math.min(remaining, SERVER_WAIT_MS + this.timeoutMs),
        });
      } catch (e) {
        const ranOut = e instanceof GatewayUnavailable && Date.now() >= deadline &&
          e.cause instanceof DOMException && e.cause.name === "TimeoutError";
        if (ranOut) throw await timedOut(e);
        throw e;
      }
      if (cluster.status !== last) {
        last = cluster.status;
        report(settings.onProgress, {
          kind: "status",
          cluster: name,
          status: last,
          elapsedMs: Date.now() - startedAt,
        });
      }
      if (cluster.status === "RUNNING") return cluster;
      if (cluster.status === "FAILED" || cluster.status === "STOPPED") {
        throw new ClusterFailed(this.address, name, cluster.status, null);
      }
      if (cluster.status === "STOPPING" && Date.now() + POLL_MS >= deadline) {
        throw new ClusterFailed(this.address, name, cluster.status, null);
      }
      // The long poll returns early only on a change or when the gateway does not hold it.
      if (Date.now() - asked < POLL_MS) await sleep(Math.min(POLL_MS, deadline - Date.now()));
    }
  }

  async #optionsSpec(): Promise<ClusterOptionsSpec> {
    await this.#auth.accessToken();
    if (this.#spec?.identity === this.#auth.identity) return this.#spec.spec;
    return await this.clusterOptions();
  }

  #expect(res: ApiResponse, ok: readonly number[]): ApiResponse {
    if (ok.includes(res.status)) return res;
    throw new UnexpectedResponse(res.url, res.status, serverMessage(res) ?? "empty body");
  }

  #expectCluster(res: ApiResponse, name: string, ok: readonly number[]): ApiResponse {
    // The gateway's own 404 is JSON; a plain-text one means the path (address prefix) is wrong.
    if (res.status === 404 && res.json !== undefined) {
      throw new ClusterNotFound(this.address, name);
    }
    if (res.status === 403) {
      throw new ClusterAccessDenied(this.address, name, serverMessage(res));
    }
    return this.#expect(res, ok);
  }
}

function startTimeout(settings: StartWaitOptions): number {
  return settings.startTimeoutMs ?? DEFAULT_CLUSTER_START_TIMEOUT_MS;
}

function checkCount(argument: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidWorkerCount(argument, value);
}
