/**
 * The Dask client: connects to a scheduler, submits graphs of Python calls built with `py`, and
 * returns {@link Future}s whose results are decoded into JS values.
 *
 * ```ts
 * await using client = await Client.connect("tcp://127.0.0.1:8786");
 * const sum = client.submit(py.fn("operator.add"), 1, 2);
 * console.log(await sum.result()); // 3
 * ```
 * @module
 */
import { BatchedStream, type StreamOp } from "./batched_stream.ts";
import { Comm, type CommOptions } from "./comm.ts";
import {
  CancelledError,
  ClientClosedError,
  ConnectionLostError,
  DaskProtocolError,
  FutureReleasedError,
  GraphBuildError,
  RegistrationError,
  RemoteError,
  RequestTimeoutError,
} from "./errors.ts";
import { type ClientWarning, VersionMismatchWarning } from "./client_warning.ts";
import { Future, type FutureOwner, KeyState, type ResultOptions, withTimeout } from "./future.ts";
import {
  type CollectionGraph,
  collectionGraphBuilder,
  parseCollectionGraph,
} from "./collection_graph.ts";
import {
  collectGraph,
  Collection,
  type Node,
  type NodeAttrs,
  py,
  type PyFunction,
  taskDict,
} from "./graph.ts";
import type { ClientOps } from "./client_ops.ts";
import { type Persistable, persistAll } from "./persist.ts";
import { type ClusterVersions, clusterVersions, parseVersions } from "./cluster_versions.ts";
import {
  getDataset,
  listDatasets,
  publishDataset,
  type PublishOptions,
  unpublishDataset,
} from "./published_datasets.ts";
import { restartCluster, type RestartOptions } from "./restart.ts";
import { runOnWorkers } from "./worker_run.ts";
import {
  type ModuleSource,
  readModuleFile,
  type UploadedModule,
  type UploadFileOptions,
  uploadModule,
} from "./upload_file.ts";
import { NDArray, type NDArrayData } from "./numpy.ts";
import type { PyValue } from "./pickle/writer.ts";
import { RpcPool } from "./rpc_pool.ts";
import { type SchedulerDialect, schedulerDialect } from "./scheduler_era.ts";
import { deserialize, serialize, Serialized } from "./serialize.ts";
import { taskErredToRemoteError } from "./task_error.ts";
import { keyText } from "./task_key.ts";
import type { TlsMaterial } from "./transport/transport.ts";
import { parseAddress } from "./transport/address.ts";
import {
  type GraphPlacement,
  prebuiltUpdateGraphMessage,
  updateGraphMessage,
} from "./update_graph.ts";

/** Options of {@link Client.connect}. */
export interface ClientOptions {
  /** TLS material for `tls://` and `gateway://` addresses. */
  readonly tls?: TlsMaterial;
  /** TLS implementation for `tls://` (see `ConnectOptions.tlsEngine`). Default `"node"`. */
  readonly tlsEngine?: "node" | "deno";
  /** Milliseconds for TCP connect plus TLS and Dask handshakes. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds for scheduler RPC replies and registration. Default 30 000. */
  readonly timeoutMs?: number;
  /** Milliseconds for data transfers (`gather`, `scatter`). Default 600 000. */
  readonly transferTimeoutMs?: number;
  /** Heartbeat period in milliseconds until the scheduler asks for another. Default 5 000. */
  readonly heartbeatIntervalMs?: number;
  /**
   * The connection counts as lost when the scheduler has sent nothing (not even a heartbeat
   * reply) for this many milliseconds. Default 60 000.
   */
  readonly heartbeatTimeoutMs?: number;
  /** Largest accepted message from the scheduler in bytes. Default 2 GiB. */
  readonly maxMessageSize?: number;
  /** Most concurrent RPC connections. Default 4. */
  readonly rpcPoolSize?: number;
  /** Milliseconds small stream operations are batched before sending. Default 10. */
  readonly batchIntervalMs?: number;
  /**
   * Called with each warning, e.g. {@link VersionMismatchWarning} when the workers run other
   * package versions than the scheduler. Warnings are also kept in `client.warnings`; nothing is
   * printed unless this callback does.
   */
  readonly onWarning?: (warning: ClientWarning) => void;
}

/** Versions the scheduler reported (`versions` RPC). */
export interface SchedulerVersions {
  /** `distributed` version, e.g. `"2026.8.0"`. */
  readonly distributed: string;
  /** `dask` version. */
  readonly dask: string;
  /** Python version string of the scheduler. */
  readonly python: string;
  /** All packages the scheduler reported (`null` when not installed). */
  readonly packages: Readonly<Record<string, string | null>>;
  /** Host facts (OS, machine, …). */
  readonly host: Readonly<Record<string, unknown>>;
}

/** One worker as the scheduler describes it in `identity` (further fields pass through). */
export interface WorkerInfo {
  /** Always `"Worker"`. */
  readonly type: string;
  /** Worker id. */
  readonly id: string;
  /** Host the worker runs on. */
  readonly host: string;
  /** The worker's name (often its address or an integer). */
  readonly name: unknown;
  /** Threads the worker runs tasks in. */
  readonly nthreads: number;
  /** Memory limit in bytes (0 = none). */
  readonly memory_limit: number;
  /** Lifecycle state, e.g. `"running"` (newer schedulers). */
  readonly status?: string;
  /** Any further field of the scheduler's reply. */
  readonly [field: string]: unknown;
}

/** Scheduler facts: the `identity` reply (further fields pass through) plus its versions. */
export interface SchedulerInfo {
  /** Always `"Scheduler"`. */
  readonly type: string;
  /** Scheduler id. */
  readonly id: string;
  /** The scheduler's own listening address. */
  readonly address: string;
  /** Extra services by name, e.g. `{dashboard: 8787}`. */
  readonly services: Readonly<Record<string, unknown>>;
  /** Start time, seconds since the epoch. */
  readonly started: number;
  /** Workers by address. */
  readonly workers: Readonly<Record<string, WorkerInfo>>;
  /** Versions the scheduler runs. */
  readonly versions: SchedulerVersions;
  /** Any further field of the scheduler's reply. */
  readonly [field: string]: unknown;
}

/**
 * How the tasks a {@link Client.compute} or {@link Client.map} call sends may run — Python's
 * `retries=`, `workers=`, `allow_other_workers=` and `priority=`. They apply to the tasks that
 * call brings to the scheduler; keys the client already holds keep what they were sent with.
 */
export interface TaskOptions {
  /** Times a failed task runs again before its error is final. Default 0. */
  readonly retries?: number;
  /** Worker addresses (or host names) allowed to run the tasks. */
  readonly workers?: readonly string[];
  /** With `workers`: other workers may run the tasks when those cannot. Default `false`. */
  readonly allowOtherWorkers?: boolean;
  /** Among ready tasks, higher runs first (an integer). Default 0. */
  readonly priority?: number;
}

/** A value {@link Client.scatter} can send: typed arrays and `NDArray`s, or `PyValue` models. */
export type ScatterValue = PyValue | NDArray | NDArrayData;

/** Serializer families asked for when gathering, in order of preference (see dask-protocol §7). */
const GATHER_SERIALIZERS = ["msgpack", "dask", "pickle"];
/** Times a gather is retried when keys were lost between completion and transfer. */
const GATHER_ATTEMPTS = 3;
/** Most graph levels walked back to find the chunk a failure started at. */
const BLAME_MAX_LEVELS = 64;

/** A connection to one Dask scheduler. */
export class Client implements FutureOwner, AsyncDisposable {
  /** The client id announced to the scheduler. */
  readonly id: string;
  /** The address connected to. */
  readonly address: string;
  /** The scheduler's dialect (graph era and field gates). */
  readonly dialect: SchedulerDialect;
  readonly #versions: SchedulerVersions;
  readonly #warnings: ClientWarning[] = [];
  readonly #onWarning: ((warning: ClientWarning) => void) | undefined;
  readonly #rpc: RpcPool;
  readonly #streamComm: Comm;
  readonly #stream: BatchedStream;
  readonly #keys = new Map<string, KeyState>();
  readonly #timeoutMs: number;
  readonly #transferTimeoutMs: number;
  readonly #heartbeatTimeoutMs: number;
  #heartbeatMs: number;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #lastHeard = Date.now();
  #closedError: Error | undefined;
  #closing: Promise<void> | undefined;
  readonly #readLoop: Promise<void>;
  /** Futures made by this client (to reject foreign ones). */
  readonly #mine = new WeakSet<Future>();
  readonly #collected = new FinalizationRegistry<KeyState>((state) => this.#dropRef(state));
  /** Keys computing collections: a failure is reported with the chunk the scheduler blames. */
  readonly #collectionOutputs = new WeakSet<KeyState>();
  #graphCounter = 0;
  /** Waiting for the scheduler's `restart` announcement (see {@link ClientOps.restarted}). */
  readonly #restartWaiters: Array<() => void> = [];
  /** What the operations in their own files use (see client_ops.ts). */
  readonly #ops: ClientOps;

  private constructor(
    address: string,
    id: string,
    dialect: SchedulerDialect,
    versions: SchedulerVersions,
    rpc: RpcPool,
    streamComm: Comm,
    options: ClientOptions,
  ) {
    this.address = address;
    this.id = id;
    this.dialect = dialect;
    this.#versions = versions;
    this.#rpc = rpc;
    this.#streamComm = streamComm;
    this.#onWarning = options.onWarning;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#transferTimeoutMs = options.transferTimeoutMs ?? 600_000;
    this.#heartbeatMs = options.heartbeatIntervalMs ?? 5_000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 60_000;
    this.#stream = new BatchedStream(
      streamComm,
      options.batchIntervalMs ?? 10,
      (e) => this.#lose(e),
    );
    this.#readLoop = this.#read();
    this.#scheduleHeartbeat();
    this.#ops = {
      client: this,
      dialect,
      timeoutMs: this.#timeoutMs,
      call: (msg, timeoutMs) => {
        this.#checkOpen();
        return this.#call(msg, timeoutMs);
      },
      send: (op) => {
        this.#checkOpen();
        this.#stream.send(op);
      },
      submit: (nodes) => this.#submit(nodes),
      checkOwn: (future) => this.#checkOwn(future),
      submitPrebuilt: (payload, wireKeys, attrs) =>
        this.#submitPrebuilt(payload, wireKeys, attrs, false),
      adopt: (wireKeys, attrs) => this.#adopt(wireKeys, attrs),
      restarted: () => new Promise((resolve) => this.#restartWaiters.push(resolve)),
    };
  }

  /**
   * Connects to a scheduler: handshake, version check, client registration.
   *
   * @param address `tcp://host:port`, `tls://host:port` or `gateway://proxy:port/<cluster>`.
   * @throws {UnsupportedSchedulerVersionError} when the scheduler's `distributed` is too old.
   * @throws {RegistrationError} when the scheduler refuses the client.
   * @throws connection errors (`ConnectionRefusedError`, `ConnectTimeoutError`,
   *   `TlsHandshakeError`, `GatewayClusterNotFoundError`, `InvalidAddressError`, …).
   */
  static async connect(address: string, options: ClientOptions = {}): Promise<Client> {
    const parsed = parseAddress(address);
    const commOptions: CommOptions = {
      tls: options.tls,
      tlsEngine: options.tlsEngine,
      timeoutMs: options.connectTimeoutMs,
      maxMessageSize: options.maxMessageSize,
    };
    const timeoutMs = options.timeoutMs ?? 30_000;
    // Both connections at once: over TLS each costs a handshake's round trips.
    const connectingStream = Comm.connect(parsed, commOptions);
    // Its failure is reported where it is awaited, or not at all if another step failed first.
    connectingStream.catch(() => {});
    const dropStream = () => connectingStream.then((c) => c.close(), () => {});
    let first: Comm;
    try {
      first = await Comm.connect(parsed, commOptions);
    } catch (e) {
      dropStream();
      throw e;
    }
    const rpc = new RpcPool(parsed, { ...commOptions, size: options.rpcPoolSize }, first);
    try {
      const versions = parseVersions(await rpc.call({ op: "versions" }, { timeoutMs }));
      const dialect = schedulerDialect(versions.distributed);
      const stream = await connectingStream;
      const id = `Client-${crypto.randomUUID()}`;
      await stream.send({
        op: "register-client",
        client: id,
        reply: false,
        // The scheduler's own versions: its warning then names only workers that differ.
        versions: { host: versions.host, packages: versions.packages },
      });
      const versionWarning = await awaitStreamStart(stream, timeoutMs);
      const client = new Client(address, id, dialect, versions, rpc, stream, options);
      if (versionWarning) client.#warn(new VersionMismatchWarning(address, versionWarning));
      return client;
    } catch (e) {
      dropStream();
      rpc.close();
      throw e;
    }
  }

  /** The package versions the scheduler runs (`distributed`, `dask`, `numpy`, …). */
  get schedulerVersions(): SchedulerVersions {
    return this.#versions;
  }

  /** Warnings reported so far (see {@link ClientOptions.onWarning}). */
  get warnings(): readonly ClientWarning[] {
    return this.#warnings;
  }

  #warn(warning: ClientWarning): void {
    this.#warnings.push(warning);
    this.#onWarning?.(warning);
  }

  /** Whether the client was closed or lost its connection. */
  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /**
   * Computes `fn(...args)` on the cluster. Arguments may be JS values, nodes and futures; pass
   * keyword arguments with `py.kwargs({...})`. Identical calls share one key (and one result).
   * @throws {GraphBuildError} for arguments without a Python equivalent.
   */
  submit(fn: PyFunction | Node | string, ...args: unknown[]): Future {
    return this.compute(py.call(fn, ...args));
  }

  /**
   * Computes `fn(value)` for every value, as one graph submission.
   * @throws {GraphBuildError} for values without a Python equivalent or invalid `options`.
   */
  map(
    fn: PyFunction | Node | string,
    values: Iterable<unknown>,
    options: TaskOptions = {},
  ): Future[] {
    const nodes = Array.from(values, (v) => py.call(fn, v));
    return this.#submit(nodes, placementOf(options));
  }

  /**
   * Computes a node (and whatever it depends on that is not already on the cluster).
   * @throws {GraphBuildError} for invalid `options`.
   */
  compute(node: Node, options: TaskOptions = {}): Future {
    return this.#submit([node], placementOf(options))[0];
  }

  /**
   * Computes a lazy Dask collection on the cluster, like Python's `client.compute(collection)`:
   * a first small task turns the collection's node into its task graph (on a worker, with the
   * cluster's own dask), then every chunk task goes to the scheduler and runs spread over the
   * workers. Resolves once the graph is submitted; the future's value is the finalised result
   * (numpy array or scalar, or a placeholder for other objects). Cancel it with
   * `future.cancel()`: the scheduler stops the queued chunks and releases their keys.
   *
   * ```ts
   * const t2m = py.call("xarray.open_zarr", path).item("t2m");
   * const mean = await client.computeCollection(py.collection(t2m.method("mean").attr("data")));
   * console.log(await mean.result()); // a number (numpy float64)
   * ```
   * End an xarray chain with `.attr("data")` to get numpy values rather than a placeholder of the
   * computed `DataArray`. A chunk that fails makes the future reject with a {@link RemoteError}
   * whose `key` is that chunk's key (as the scheduler's story blames it).
   * @param options `timeoutMs` bounds the graph building step.
   * @throws {GraphBuildError} when `collection` is not a {@link Collection}.
   * @throws {RemoteError} when building the graph fails: e.g. the dataset cannot be opened, or
   *   the node's value is not a Dask collection (`AttributeError: … '__dask_graph__'`).
   * @throws {DaskProtocolError} when the built graph is unusable (not one string output key).
   */
  async computeCollection(collection: Collection, options: ResultOptions = {}): Promise<Future> {
    this.#checkOpen();
    if (!(collection instanceof Collection)) {
      throw new GraphBuildError(
        "computeCollection() needs py.collection(node); use compute() for a plain node",
      );
    }
    const builder = this.compute(collectionGraphBuilder(collection, this.dialect.era));
    let graph: CollectionGraph;
    try {
      graph = parseCollectionGraph(await builder.result(options), builder.key);
    } finally {
      builder.release();
    }
    if (graph.keys.length !== 1) {
      throw new DaskProtocolError(
        `the collection of ${collection.node.key} has ${graph.keys.length} output keys; ` +
          `expected one`,
      );
    }
    return this.#submitPrebuilt(graph.payload, graph.keys, collection.attrs, true)[0];
  }

  /**
   * Fetches the values of futures, in order, once all are computed.
   * @throws {RemoteError} for the first failed task, {@link CancelledError},
   *   {@link ConnectionLostError}, {@link RequestTimeoutError}.
   */
  async gather(futures: readonly Future[]): Promise<unknown[]> {
    this.#checkOpen();
    for (const f of futures) this.#checkOwn(f);
    const keys = [...new Set(futures.map((f) => f.key))];
    await Promise.all(futures.map((f) => f.wait()));
    const values = await this.#gatherKeys(keys);
    return futures.map((f) => values.get(f.key));
  }

  /** @internal {@link Future.result}. */
  async gatherOne(future: Future, timeoutMs?: number): Promise<unknown> {
    this.#checkOwn(future);
    const work = (async () => {
      await future.state.wait();
      return (await this.#gatherKeys([future.key])).get(future.key);
    })();
    return await withTimeout(work, timeoutMs, `result of key ${future.key}`);
  }

  /**
   * Sends values to the workers and returns a future for each. Typed arrays and `NDArray`s
   * arrive as numpy arrays, `Uint8Array` as bytes, other JS values via msgpack (arrays as
   * tuples), `PyValue` models as pickles.
   */
  async scatter(values: readonly ScatterValue[]): Promise<Future[]> {
    this.#checkOpen();
    const data: Record<string, Serialized> = {};
    const keys: string[] = [];
    for (const v of values) {
      const s = serialize(toScatterable(v));
      const key = `${scatterName(v)}-${await digestSerialized(s)}`;
      data[key] = s;
      keys.push(key);
    }
    const reply = await this.#call({
      op: "scatter",
      data,
      workers: null,
      client: this.id,
      broadcast: false,
      timeout: 5,
    }, this.#transferTimeoutMs);
    if (!Array.isArray(reply)) {
      throw new DaskProtocolError(`scatter got an unexpected reply: ${String(reply)}`);
    }
    return keys.map((key) => {
      const state = this.#keys.get(key) ?? this.#newState(key);
      state.finish();
      return this.#newFuture(key, {}, state);
    });
  }

  /** @internal Cancels keys ({@link Future.cancel}). */
  async cancel(futures: readonly Future[], reason = "cancelled by the client"): Promise<void> {
    this.#checkOpen();
    const keys = [...new Set(futures.map((f) => f.key))];
    const op: StreamOp = {
      op: "cancel-keys",
      keys: keys.map((k) => this.#wireKey(k)),
      force: false,
    };
    if (this.dialect.cancelNeedsReason) Object.assign(op, { reason, msg: reason });
    for (const key of keys) {
      const state = this.#keys.get(key);
      if (!state) continue;
      // The scheduler releases cancelled keys for this client; forget them here too.
      this.#keys.delete(key);
      state.fail("cancelled", new CancelledError(key, reason));
    }
    await this.#stream.sendNow(op);
  }

  /** @internal Called by {@link Future.release}. */
  releaseFuture(future: Future): void {
    this.#collected.unregister(future);
    this.#dropRef(future.state);
  }

  /** Scheduler facts: id, address, services, workers, and the versions it runs. */
  async identity(): Promise<SchedulerInfo> {
    this.#checkOpen();
    const msg = this.dialect.identityTakesNWorkers
      ? { op: "identity", n_workers: -1 }
      : { op: "identity" };
    const reply = await this.#call(msg, this.#timeoutMs);
    if (!isRecord(reply)) {
      throw new DaskProtocolError(`identity got an unexpected reply: ${String(reply)}`);
    }
    return { ...reply, workers: reply.workers ?? {}, versions: this.#versions } as SchedulerInfo;
  }

  /**
   * Sends one scheduler RPC (`{op, ...fields}`) and returns its reply, for handlers this client
   * has no method for, e.g. `client.rpc("get_task_status", { keys })`. `Serialized` values in
   * the reply are left undecoded.
   * @throws {RpcError} when the scheduler replies with an error.
   */
  async rpc(
    op: string,
    fields: Record<string, unknown> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    this.#checkOpen();
    return await this.#call({ ...fields, op }, options.timeoutMs ?? this.#timeoutMs);
  }

  // --- cluster operations (each in its own file; see client_ops.ts) ---

  /**
   * Makes your own Python module importable on the scheduler and on every worker, including
   * workers that join later (adaptive scaling), like Python's `client.upload_file`: afterwards
   * `py.fn("flood_severity.classify")` names its functions. Uploading a module of the same file
   * name again replaces it.
   *
   * ```ts
   * await client.uploadFile("./flood_severity.py"); // or { name: "x.py", source: "def f(): …" }
   * const classes = client.submit("flood_severity.classify", [0.05, 0.4, 0.9]);
   * ```
   * @throws {InvalidModuleError} when the file cannot be read or is no importable module name.
   * @throws {ModuleSyntaxError} for a syntax error, naming the file and line.
   * @throws {ModuleImportError} when importing fails on the cluster (e.g. a missing package).
   */
  async uploadFile(source: ModuleSource, options: UploadFileOptions = {}): Promise<UploadedModule> {
    this.#checkOpen();
    return await uploadModule(this.#ops, await readModuleFile(source), options);
  }

  /**
   * Computes a node or a lazy collection and keeps it on the cluster, like Python's
   * `client.persist`: resolves once it is in memory, with a future that later computations take
   * as an argument (`py.call(fn, kept)`, `py.ref(kept).method(…)`); no data comes here.
   * `kept.release()` frees it. For a collection (`py.collection(node)`) every chunk is kept, and
   * the future's value is the collection rebuilt over the kept chunks, so a later
   * `py.collection(py.ref(kept).method("mean"))` reads them instead of computing them again.
   *
   * ```ts
   * const flood = py.call("xarray.open_zarr", url).item("flood");
   * const kept = await client.persist(py.collection(flood));
   * const total = await client.computeCollection(py.collection(py.ref(kept).method("sum")));
   * kept.release(); // the scheduler frees the chunks
   * ```
   * @param options `timeoutMs` bounds the whole wait; on timeout or failure nothing stays kept.
   * @throws {RemoteError} when a task or chunk fails.
   * @throws {GraphBuildError} for something that is neither a node nor a collection.
   */
  persist(target: Persistable, options?: ResultOptions): Promise<Future>;
  /** Persists several nodes and collections at once; futures in the same order. */
  persist(targets: readonly Persistable[], options?: ResultOptions): Promise<Future[]>;
  async persist(
    target: Persistable | readonly Persistable[],
    options: ResultOptions = {},
  ): Promise<Future | Future[]> {
    this.#checkOpen();
    if (Array.isArray(target)) return await persistAll(this.#ops, target, options);
    return (await persistAll(this.#ops, [target as Persistable], options))[0];
  }

  /**
   * Calls a Python function on every worker, outside any task, like Python's `client.run`;
   * results by worker address. Arguments are plain values (`py.kwargs({...})` for keywords). A
   * function with a `dask_worker` parameter gets the worker object.
   *
   * ```ts
   * await client.run("importlib.metadata.version", "xarray"); // { "tcp://…": "2024.11.0", … }
   * ```
   * @throws {WorkerRunError} when it raises on a worker, naming the worker.
   */
  async run(fn: PyFunction | string, ...args: unknown[]): Promise<Record<string, unknown>> {
    this.#checkOpen();
    return await runOnWorkers(this.#ops, fn, args);
  }

  /**
   * Forgets every task of every client and restarts every worker, like Python's
   * `client.restart` (e.g. to recover a wedged cluster). Pending futures reject with
   * {@link CancelledError}; resolves once as many workers as before are back.
   * @throws {RestartError} when they did not come back in time (workers without a nanny are
   *   only stopped).
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    this.#checkOpen();
    await restartCluster(this.#ops, options);
  }

  /** The packages the scheduler and each worker run (Python's `client.get_versions()`). */
  async versions(options: { readonly timeoutMs?: number } = {}): Promise<ClusterVersions> {
    this.#checkOpen();
    return await clusterVersions(this.#ops, options);
  }

  /**
   * Keeps futures on the scheduler under a name, for another client (a later script) to read
   * with {@link getDataset}, like Python's `client.publish_dataset`; the scheduler holds the
   * values until {@link unpublishDataset}, whatever this client does.
   * @throws {DatasetExistsError} when the name is taken (unless `override`).
   */
  async publishDataset(
    name: string,
    value: Future | readonly Future[],
    options: PublishOptions = {},
  ): Promise<void> {
    this.#checkOpen();
    await publishDataset(this.#ops, name, value, options);
  }

  /**
   * A published dataset as futures of this client: one future if one was published, a list
   * for a list.
   * @throws {DatasetNotFoundError} naming the published datasets.
   */
  async getDataset(name: string): Promise<Future | Future[]> {
    this.#checkOpen();
    return await getDataset(this.#ops, name);
  }

  /** Names of the datasets published on this scheduler. */
  async listDatasets(): Promise<string[]> {
    this.#checkOpen();
    return await listDatasets(this.#ops);
  }

  /** Removes a published dataset (a missing one is no error). */
  async unpublishDataset(name: string): Promise<void> {
    this.#checkOpen();
    await unpublishDataset(this.#ops, name);
  }

  /**
   * Closes the client: the scheduler releases all its keys, pending futures reject with
   * {@link ClientClosedError}. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the client at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    if (!this.#closedError) {
      this.#closedError = new ClientClosedError(`client ${this.id} is closed`);
      clearTimeout(this.#heartbeatTimer);
      await withTimeout(
        this.#stream.close([{ op: "close-client" }, { op: "close-stream" }]),
        this.#timeoutMs,
        "sending close-client",
      ).catch(() => {});
      this.#failAll(this.#closedError);
    }
    this.#streamComm.close();
    this.#rpc.close();
    await this.#readLoop;
  }

  // --- submission ---

  #submit(nodes: readonly Node[], placement: GraphPlacement = {}): Future[] {
    this.#checkOpen();
    const fresh = new Map<string, Node>();
    for (const node of nodes) if (!this.#keys.has(node.key)) fresh.set(node.key, node);
    if (fresh.size > 0) {
      const collected = collectGraph([...fresh.values()], (key) => this.#keys.has(key));
      for (const node of collected.values()) {
        for (const f of node.futures) {
          if (!this.#keys.has(f.key) || !this.#mine.has(f as Future)) {
            throw new GraphBuildError(
              `node ${node.key} uses future ${f.key}, which this client does not hold ` +
                `(released, cancelled, or from another client)`,
            );
          }
        }
      }
      const dsk = taskDict(collected.values(), this.dialect.era);
      const token = `${this.id}-${++this.#graphCounter}`;
      const msg = updateGraphMessage(this.dialect, dsk, [...fresh.keys()], token, placement);
      // Encoding happens now: a bad graph throws here, before any state changes.
      const sent = this.#stream.sendNow(msg as StreamOp);
      for (const key of fresh.keys()) this.#newState(key);
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return nodes.map((node) => this.#newFuture(node.key, node.attrs, this.#keys.get(node.key)!));
  }

  /**
   * Submits a graph pickled on a worker, its payload untouched, wanting `wireKeys`. With `blame`,
   * a failure is reported with the chunk the scheduler's story blames.
   */
  #submitPrebuilt(
    payload: Uint8Array,
    wireKeys: readonly unknown[],
    attrs: NodeAttrs,
    blame: boolean,
  ): Future[] {
    this.#checkOpen();
    const keys = wireKeys.map(keyText);
    if (keys.some((key) => !this.#keys.has(key))) {
      const msg = prebuiltUpdateGraphMessage(this.dialect, payload, wireKeys);
      const sent = this.#stream.sendNow(msg as StreamOp);
      keys.forEach((key, i) => {
        if (this.#keys.has(key)) return;
        const state = this.#newState(key, wireKeys[i]);
        if (blame) this.#collectionOutputs.add(state);
      });
      sent.catch(() => {}); // a failed write is handled as a lost connection
    }
    return keys.map((key) => this.#newFuture(key, attrs, this.#keys.get(key)!));
  }

  /** Futures for keys already on the cluster; the scheduler reports them to this client. */
  #adopt(wireKeys: readonly unknown[], attrs: NodeAttrs): Future[] {
    this.#checkOpen();
    const keys = wireKeys.map(keyText);
    const fresh = wireKeys.filter((_, i) => !this.#keys.has(keys[i]));
    keys.forEach((key, i) => {
      if (!this.#keys.has(key)) this.#newState(key, wireKeys[i]);
    });
    if (fresh.length > 0) {
      this.#stream.send({ op: "client-desires-keys", keys: fresh, client: this.id });
    }
    return keys.map((key) => this.#newFuture(key, attrs, this.#keys.get(key)!));
  }

  /**
   * The key the scheduler blames for `key`'s failure: walks the scheduler's story back from
   * `key` along the tasks that recommended their dependents to err in the same stimulus, to the
   * one that went from processing to erred (one `get_story` call per level of the graph).
   */
  async #blamedKey(key: string): Promise<string | undefined> {
    let stimulus: unknown;
    let frontier: unknown[] = [key];
    const seen = new Set([key]);
    for (let level = 0; level < BLAME_MAX_LEVELS && frontier.length > 0; level++) {
      const reply = await this.#call(
        { op: "get_story", keys_or_stimuli: frontier },
        this.#timeoutMs,
      );
      const erred = (Array.isArray(reply) ? reply : []).filter((t): t is unknown[] =>
        Array.isArray(t) && t[2] === "erred"
      );
      stimulus ??= erred.findLast((t) => keyText(t[0]) === key)?.[4];
      if (stimulus === undefined) return undefined;
      const wanted = new Set(frontier.map(keyText));
      const causes = erred.filter((t) =>
        t[4] === stimulus && recommendedKeys(t[3]).some((k) => wanted.has(keyText(k)))
      );
      const root = causes.find((t) => t[1] === "processing");
      if (root) return keyText(root[0]);
      frontier = causes.map((t) => t[0]).filter((k) => !seen.has(keyText(k)));
      for (const k of frontier) seen.add(keyText(k));
    }
    return undefined;
  }

  #failCollection(state: KeyState, error: RemoteError): void {
    this.#blamedKey(state.key).catch(() => undefined).then((blamed) => {
      if (state.status !== "pending" || this.#keys.get(state.key) !== state) return;
      if (!blamed || blamed === error.key) return state.fail("error", error);
      state.fail(
        "error",
        new RemoteError(blamed, error.type, error.module, error.pythonMessage, error.traceback, {
          cause: error.cause,
        }),
      );
    });
  }

  /** The key as the scheduler knows it (tuple keys as they came). */
  #wireKey(key: string): unknown {
    return this.#keys.get(key)?.wire ?? key;
  }

  #newState(key: string, wire: unknown = key): KeyState {
    const state = new KeyState(key, wire);
    this.#keys.set(key, state);
    return state;
  }

  #newFuture(key: string, attrs: Record<string, unknown>, state: KeyState): Future {
    const future = new Future(key, attrs, state, this);
    state.refs++;
    this.#mine.add(future);
    this.#collected.register(future, state, future);
    return future;
  }

  #dropRef(state: KeyState): void {
    state.refs--;
    const key = state.key;
    if (state.refs > 0 || this.#keys.get(key) !== state) return;
    this.#keys.delete(key);
    state.onRelease?.();
    if (!this.closed) {
      this.#stream.send({ op: "client-releases-keys", keys: [state.wire], client: this.id });
    }
  }

  // --- gather ---

  async #gatherKeys(keys: readonly string[]): Promise<Map<string, unknown>> {
    for (let attempt = 1;; attempt++) {
      const reply = await this.#call(
        { op: "gather", keys: keys.map((k) => this.#wireKey(k)), serializers: GATHER_SERIALIZERS },
        this.#transferTimeoutMs,
      );
      if (!isRecord(reply)) {
        throw new DaskProtocolError(`gather got an unexpected reply: ${String(reply)}`);
      }
      if (reply.status === "OK") {
        return new Map(keys.map((key) => [key, decodeValue(lookup(reply.data, key))]));
      }
      // Keys lost between completion and transfer: ask for a fresh report, wait, retry.
      const missing = Array.isArray(reply.keys) ? reply.keys.map(keyText) : [...keys];
      if (attempt >= GATHER_ATTEMPTS) {
        throw new DaskProtocolError(
          `gather could not fetch ${missing.join(", ")} after ${attempt} attempts: the workers ` +
            `holding them are gone`,
        );
      }
      for (const key of missing) {
        this.#keys.get(key)?.reset();
        this.#stream.send({ op: "report-key", key: this.#wireKey(key) });
      }
      await Promise.all(missing.map((k) => this.#keys.get(k)?.wait()));
    }
  }

  // --- scheduler messages ---

  async #read(): Promise<void> {
    try {
      for (;;) {
        const msg = await this.#streamComm.recv();
        this.#lastHeard = Date.now();
        for (const op of Array.isArray(msg) ? msg : [msg]) {
          if (op === "OK") break;
          if (isRecord(op)) this.#handle(op);
        }
      }
    } catch (e) {
      this.#lose(e);
    }
  }

  #handle(msg: Record<string, unknown>): void {
    switch (msg.op) {
      case "key-in-memory":
        this.#keys.get(keyText(msg.key))?.finish();
        break;
      case "task-erred": {
        const key = keyText(msg.key);
        const state = this.#keys.get(key);
        if (!state) break;
        const error = taskErredToRemoteError(key, msg.exception, msg.traceback);
        if (this.#collectionOutputs.has(state)) this.#failCollection(state, error);
        else state.fail("error", error);
        break;
      }
      case "cancelled-keys": {
        const keys = Array.isArray(msg.keys) ? msg.keys.map(keyText) : [];
        const reason = [msg.reason, msg.msg].filter((x) => typeof x === "string" && x).join(": ");
        for (const key of keys) {
          const state = this.#keys.get(key);
          if (!state) continue;
          this.#keys.delete(key);
          state.fail("cancelled", new CancelledError(key, reason || "cancelled by the scheduler"));
        }
        break;
      }
      case "lost-data":
      case "task-retried":
        this.#keys.get(keyText(msg.key))?.reset();
        break;
      case "restart":
        for (const announced of this.#restartWaiters.splice(0)) announced();
        for (const [key, state] of [...this.#keys]) {
          this.#keys.delete(key);
          state.fail("cancelled", new CancelledError(key, "the scheduler restarted"));
        }
        break;
      case "adjust-heartbeat-interval":
        if (typeof msg.interval === "number" && msg.interval > 0) {
          this.#heartbeatMs = msg.interval * 1000;
        }
        break;
      case "stream-closed":
        this.#lose(new ConnectionLostError(`scheduler ${this.address} closed the client stream`));
        break;
    }
  }

  #scheduleHeartbeat(): void {
    const period = Math.min(this.#heartbeatMs, this.#heartbeatTimeoutMs / 3);
    this.#heartbeatTimer = setTimeout(() => {
      if (this.closed) return;
      const silent = Date.now() - this.#lastHeard;
      if (silent > this.#heartbeatTimeoutMs) {
        this.#lose(
          new ConnectionLostError(
            `scheduler ${this.address} sent nothing for ${silent} ms (heartbeat timeout ` +
              `${this.#heartbeatTimeoutMs} ms)`,
          ),
        );
        return;
      }
      this.#stream.send({ op: "heartbeat-client" });
      this.#scheduleHeartbeat();
    }, period);
  }

  /** Marks the connection lost: every pending future rejects at once. */
  #lose(cause: unknown): void {
    if (this.#closedError) return;
    const error = cause instanceof ConnectionLostError ? cause : new ConnectionLostError(
      `lost the connection to scheduler ${this.address}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.#closedError = error;
    clearTimeout(this.#heartbeatTimer);
    this.#failAll(error);
    this.#streamComm.close();
    this.#rpc.close();
  }

  #failAll(error: Error): void {
    for (const state of this.#keys.values()) state.fail("lost", error);
    this.#keys.clear();
  }

  async #call(msg: { op: string; [k: string]: unknown }, timeoutMs: number): Promise<unknown> {
    try {
      return await this.#rpc.call(msg, { timeoutMs });
    } catch (e) {
      // After a loss, report the loss rather than the pool's own closing error.
      if (this.#closedError) throw this.#closedError;
      throw e;
    }
  }

  #checkOpen(): void {
    if (this.#closedError) throw this.#closedError;
  }

  #checkOwn(future: Future): void {
    if (future.released) throw new FutureReleasedError(`future ${future.key} was released`);
    if (!this.#mine.has(future)) {
      throw new GraphBuildError(`future ${future.key} belongs to another client`);
    }
  }
}

/** Waits for `stream-start`; returns its version warning (empty when versions agree). */
async function awaitStreamStart(stream: Comm, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const msg = await Promise.race([
      stream.recv(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RequestTimeoutError(
                `the scheduler did not confirm the client registration within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
    const ops = Array.isArray(msg) ? msg : [msg];
    const start = ops.find((op) => isRecord(op) && op.op === "stream-start");
    if (!isRecord(start)) {
      throw new RegistrationError(
        `expected "stream-start" after registering, got ${JSON.stringify(ops).slice(0, 200)}`,
      );
    }
    if (typeof start.error === "string" && start.error) {
      throw new RegistrationError(`the scheduler refused the client: ${start.error}`);
    }
    return typeof start.warning === "string" ? start.warning : "";
  } finally {
    clearTimeout(timer);
  }
}

/** Keys of a story entry's recommendations (a map, with array keys for tuple keys). */
function recommendedKeys(recommendations: unknown): unknown[] {
  if (recommendations instanceof Map) return [...recommendations.keys()];
  return isRecord(recommendations) ? Object.keys(recommendations) : [];
}

function decodeValue(value: unknown): unknown {
  return value instanceof Serialized ? deserialize(value) : value;
}

function lookup(data: unknown, key: string): unknown {
  if (data instanceof Map) {
    if (data.has(key)) return data.get(key);
    for (const [k, v] of data) if (keyText(k) === key) return v;
    return undefined;
  }
  if (isRecord(data)) return data[key];
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) &&
    !(v instanceof Map);
}

const TYPED_ARRAYS = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

function toScatterable(v: ScatterValue): PyValue | NDArray {
  if (TYPED_ARRAYS.some((T) => v instanceof T)) return NDArray.from(v as NDArrayData);
  return v as PyValue | NDArray;
}

/** Checks {@link TaskOptions} and turns them into the scheduler's annotations. */
function placementOf(options: TaskOptions): GraphPlacement {
  const { retries, workers, allowOtherWorkers, priority } = options;
  const invalid = (what: string, value: unknown, want: string): never => {
    throw new GraphBuildError(`task option ${what} is ${JSON.stringify(value)}; give ${want}`);
  };
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0)) {
    invalid("retries", retries, "an integer >= 0");
  }
  if (
    workers !== undefined &&
    (!Array.isArray(workers) || workers.length === 0 ||
      workers.some((w) => typeof w !== "string" || w === ""))
  ) {
    invalid("workers", workers, "a non-empty list of worker addresses or host names");
  }
  if (allowOtherWorkers !== undefined && workers === undefined) {
    invalid("allowOtherWorkers", allowOtherWorkers, "it only together with workers");
  }
  if (priority !== undefined && !Number.isSafeInteger(priority)) {
    invalid("priority", priority, "an integer");
  }
  const annotations: Record<string, unknown> = {};
  if (retries) annotations.retries = retries;
  if (workers) annotations.workers = [...workers];
  if (allowOtherWorkers) annotations.allow_other_workers = true;
  return { annotations, userPriority: priority };
}

function scatterName(v: unknown): string {
  if (v instanceof NDArray || TYPED_ARRAYS.some((T) => v instanceof T)) return "ndarray";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  if (v === null) return "None";
  return typeof v === "object" ? "object" : typeof v;
}

/** `node:crypto`, loaded on first scatter: Node compatibility costs tens of ms at start-up. */
let nodeCrypto: Promise<typeof import("node:crypto")> | undefined;

/** Hashes natively: scattered payloads can be hundreds of MB. */
async function digestSerialized(s: Serialized): Promise<string> {
  const { createHash } = await (nodeCrypto ??= import("node:crypto"));
  const h = createHash("sha1");
  h.update(JSON.stringify(s.header, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  for (const f of s.frames) h.update(f);
  return h.digest("hex").slice(0, 32);
}
