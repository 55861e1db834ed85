/**
 * The Dask client: connects to a scheduler, submits graphs of Python calls built with `py`, and
 * returns {@link Future}s whose results are decoded into JS values.
 *
 * ```ts
 * await using client = await Client.connect("tcp://127.0.0.1:8786");
 * const sum = client.submit(py.fn("operator.add"), 1, 2);
 * console.log(await sum.result()); // 3
 * ```
 *
 * The client's jobs live beside it: registering ({@link register}), submitting graphs
 * ({@link Submission}), the stream and its heartbeat ({@link SchedulerStream}), fetching values
 * ({@link gatherKeys}), blaming a collection's failed chunk ({@link failCollection}), naming
 * scattered values ({@link scatterData}) and checking task options ({@link placementOf}); and
 * the cluster operations: uploading a module ({@link uploadModule}), keeping values on the
 * cluster ({@link persistAll}), running a function on every worker ({@link runOnWorkers}),
 * restarting ({@link restartCluster}), reading versions ({@link clusterVersions}) and published
 * datasets ({@link publishDataset}).
 * @module
 */
import { isPlainObject, withTimeout } from "../../base/mod.ts";
import type { DecodeMessageOptions } from "../codec/message.ts";
import type { StreamOp } from "../connection/batched_stream.ts";
import type { RpcPool } from "../connection/rpc_pool.ts";
import {
  ClientClosed,
  ConnectionLost,
  type DaskProtocolError,
  GraphBuildFailed,
  InvalidCollectionGraph,
  TaskCancelled,
  UnexpectedReply,
} from "../errors.ts";
import {
  type CollectionGraph,
  collectionGraphBuilder,
  parseCollectionGraph,
} from "../graph/collection_graph.ts";
import { Collection, type Node, py, type PyFunction } from "../graph/py.ts";
import type { SchedulerDialect } from "../graph/scheduler_era.ts";
import type { ClientContext, RpcMessage } from "./client_context.ts";
import { type ClientOptions, DEFAULT_TIMEOUT_MS } from "./client_options.ts";
import { type ClientWarning, VersionMismatchWarning } from "./client_warning.ts";
import { type ClusterVersions, clusterVersions } from "./cluster_versions.ts";
import { failCollection } from "./collection_blame.ts";
import { type Future, type FutureOwner, notWithin, type ResultOptions } from "./future.ts";
import { gatherKeys } from "./gather.ts";
import { type KeyState, whenSettled } from "./key_state.ts";
import { KeyTable } from "./key_table.ts";
import { type Persistable, persistAll } from "./persist.ts";
import {
  getDataset,
  listDatasets,
  publishDataset,
  type PublishOptions,
  unpublishDataset,
} from "./published_datasets.ts";
import { register, type Registration } from "./registration.ts";
import { restartCluster, type RestartOptions } from "./restart.ts";
import { scatterData, type ScatterValue } from "./scatter.ts";
import type { SchedulerInfo, SchedulerVersions } from "./scheduler_info.ts";
import { SchedulerStream } from "./scheduler_stream.ts";
import { Submission } from "./submission.ts";
import { placementOf, type TaskOptions } from "./task_options.ts";
import {
  type ModuleSource,
  readModuleFile,
  type UploadedModule,
  type UploadFileOptions,
  uploadModule,
} from "./upload_file.ts";
import { runOnWorkers } from "./worker_run.ts";
import { type ProgressOptions, ProgressPoller, type TaskKey, trackProgress } from "./progress.ts";
import { collectGraph } from "../graph/task_graph.ts";

/** A connection to one Dask scheduler. */
export class Client implements AsyncDisposable {
  /** The client id announced to the scheduler. */
  readonly id: string;
  /** The address connected to. */
  readonly address: string;
  /** @ignore The scheduler's dialect (graph era and field gates). */
  readonly dialect: SchedulerDialect;
  readonly #versions: SchedulerVersions;
  readonly #warnings: ClientWarning[] = [];
  readonly #onWarning: ((warning: ClientWarning) => void) | undefined;
  readonly #timeoutMs: number;
  readonly #rpc: RpcPool;
  readonly #keys: KeyTable;
  readonly #stream: SchedulerStream;
  readonly #context: ClientContext;
  readonly #submission: Submission;
  #closedError: DaskProtocolError | undefined;
  #closing: Promise<void> | undefined;
  /** Asks the scheduler about every computation reporting progress, made on first use. */
  #poller: ProgressPoller | undefined;

  /** @ignore Clients are made by {@link Client.connect}. */
  private constructor(address: string, registration: Registration, options: ClientOptions) {
    this.address = address;
    this.id = registration.id;
    this.dialect = registration.dialect;
    this.#versions = registration.versions;
    this.#rpc = registration.rpc;
    this.#onWarning = options.onWarning;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // What futures ask of their client, kept off the client's API.
    const owner: FutureOwner = {
      result: (future, state, timeoutMs) => this.#result(future, state, timeoutMs),
      cancel: (futures, reason) => this.#cancel(futures, reason),
      release: (future, state) => this.#keys.release(future, state),
    };
    this.#keys = new KeyTable(owner, (wireKey) => {
      if (!this.closed) this.#stream.releaseKey(wireKey, this.id);
    });
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 60_000;
    this.#stream = new SchedulerStream(registration.stream, this.#keys, {
      address,
      batchIntervalMs: options.batchIntervalMs ?? 10,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5_000,
      heartbeatTimeoutMs: heartbeatTimeoutMs,
      // Older schedulers never answer heartbeats: while a long task runs, the stream is quiet.
      probe: this.dialect.heartbeatReplies
        ? undefined
        : async () => void await this.#call({ op: "echo" }, heartbeatTimeoutMs),
    }, {
      taskErred: (state, error) => {
        if (this.#keys.isCollectionOutput(state)) failCollection(this.#context, state, error);
        else state.fail("error", error);
      },
      lost: (cause) => this.#lose(cause),
    });
    this.#context = {
      id: this.id,
      dialect: this.dialect,
      keys: this.#keys,
      stream: this.#stream,
      timeoutMs: this.#timeoutMs,
      transferTimeoutMs: options.transferTimeoutMs ?? 600_000,
      call: (msg, timeoutMs, decode) => this.#call(msg, timeoutMs, decode),
    };
    this.#submission = new Submission(this.#context);
  }

  /**
   * Connects to a scheduler: handshake, version check, client registration.
   *
   * @param address `tcp://host:port`, `tls://host:port` or `gateway://proxy:port/<cluster>`.
   * @throws {UnsupportedSchedulerVersion} when the scheduler's `distributed` is too old.
   * @throws {RegistrationRefused} when the scheduler refuses the client.
   * @throws connection errors (`ConnectionRefused`, `ConnectTimeout`,
   *   `TlsHandshakeFailed`, `GatewayClusterNotFound`, `InvalidAddress`, …).
   */
  static async connect(address: string, options: ClientOptions = {}): Promise<Client> {
    const registration = await register(address, options);
    const client = new Client(address, registration, options);
    if (registration.versionWarning) {
      client.#warn(new VersionMismatchWarning(address, registration.versionWarning));
    }
    return client;
  }

  /** The package versions the scheduler runs (`distributed`, `dask`, `numpy`, …). */
  get schedulerVersions(): SchedulerVersions {
    return this.#versions;
  }

  /** Warnings reported so far (see {@link ClientOptions.onWarning}). */
  get warnings(): readonly ClientWarning[] {
    return this.#warnings;
  }

  /** Whether the client was closed or lost its connection. */
  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /**
   * Computes `fn(...args)` on the cluster. Arguments may be JS values, nodes and futures; pass
   * keyword arguments with `py.kwargs({...})`. Identical calls share one key (and one result).
   * @throws {GraphBuildFailed} for arguments without a Python equivalent.
   */
  submit(fn: PyFunction | Node | string, ...args: unknown[]): Future {
    return this.compute(py.call(fn, ...args));
  }

  /**
   * Computes `fn(value)` for every value, as one graph submission. With `onProgress`, the tasks
   * of all of them are reported as one computation (see {@link ProgressOptions}).
   * @throws {GraphBuildFailed} for values without a Python equivalent or invalid `options`.
   */
  map(
    fn: PyFunction | Node | string,
    values: Iterable<unknown>,
    options: TaskOptions & ProgressOptions = {},
  ): Future[] {
    const startedAt = performance.now();
    const nodes = Array.from(values, (v) => py.call(fn, v));
    const placement = placementOf(options);
    this.#checkOpen();
    const futures = this.#submission.nodes(nodes, placement);
    if (options.onProgress) this.#track(nodeKeys(nodes), futures, options, startedAt);
    return futures;
  }

  /**
   * Computes a node (and whatever it depends on that is not already on the cluster). With
   * `onProgress`, every task of the node's graph is reported until it settles.
   * @throws {GraphBuildFailed} for invalid `options`.
   */
  compute(node: Node, options: TaskOptions & ProgressOptions = {}): Future {
    const startedAt = performance.now();
    const placement = placementOf(options);
    this.#checkOpen();
    const future = this.#submission.nodes([node], placement)[0];
    if (options.onProgress) this.#track(nodeKeys([node]), [future], options, startedAt);
    return future;
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
   * @param options `timeoutMs` bounds the graph building step; with `onProgress`, the builder
   *   also lists the graph's task keys and every chunk task is reported until the result
   *   settles (the first report comes once the graph is built).
   * @throws {GraphBuildFailed} when `collection` is not a {@link Collection}.
   * @throws {RemoteError} when building the graph fails: e.g. the dataset cannot be opened, or
   *   the node's value is not a Dask collection (`AttributeError: … '__dask_graph__'`).
   * @throws {InvalidCollectionGraph} when the built graph is unusable (not one string output
   *   key).
   */
  async computeCollection(
    collection: Collection,
    options: ResultOptions & ProgressOptions = {},
  ): Promise<Future> {
    const startedAt = performance.now();
    this.#checkOpen();
    if (!(collection instanceof Collection)) {
      throw new GraphBuildFailed(
        "computeCollection() needs py.collection(node); use compute() for a plain node",
      );
    }
    const keyForm = options.onProgress ? (this.dialect.tupleKeys ? "as-is" : "str") : undefined;
    const builder = this.compute(collectionGraphBuilder(collection, this.dialect.era, keyForm));
    let graph: CollectionGraph;
    try {
      graph = parseCollectionGraph(await builder.result(options), builder.key);
    } finally {
      builder.release();
    }
    if (graph.keys.length !== 1) {
      throw new InvalidCollectionGraph(
        `the collection of ${collection.node.key} has ${graph.keys.length} output keys; ` +
          `expected one`,
      );
    }
    this.#checkOpen();
    const future = this.#submission.prebuilt(graph.payload, graph.keys, collection.attrs, {
      collectionOutput: true,
    })[0];
    if (options.onProgress) this.#track(graph.taskKeys ?? graph.keys, [future], options, startedAt);
    return future;
  }

  /**
   * Fetches the values of futures, in order, once all are computed.
   * @throws {RemoteError} for the first failed task, {@link TaskCancelled},
   *   {@link ConnectionLost}, {@link RequestTimeout}.
   */
  async gather(futures: readonly Future[]): Promise<unknown[]> {
    this.#checkOpen();
    const states = new Set(futures.map((f) => this.#keys.held(f))); // refuses released, foreign
    // One wait for all keys; it ends early at the first key that fails, with that key's error.
    const failed = await whenSettled(states, (state) => state.status !== "finished").done;
    if (failed) throw failed.error;
    const values = await gatherKeys(this.#context, Array.from(states, (s) => s.key));
    return futures.map((f) => values.get(f.key));
  }

  /**
   * Sends values to the workers and returns a future for each. Typed arrays and `NDArray`s
   * arrive as numpy arrays, `Uint8Array` as bytes, other JS values via msgpack (arrays as
   * tuples), `PyValue` models as pickles.
   */
  async scatter(values: readonly ScatterValue[]): Promise<Future[]> {
    this.#checkOpen();
    const { data, keys } = await scatterData(values);
    const reply = await this.#call({
      op: "scatter",
      data,
      workers: null,
      client: this.id,
      broadcast: false,
      timeout: 5,
    }, this.#context.transferTimeoutMs);
    if (!Array.isArray(reply)) {
      throw new UnexpectedReply(`scatter got an unexpected reply: ${String(reply)}`);
    }
    return keys.map((key) => {
      const state = this.#keys.get(key) ?? this.#keys.add(key);
      state.finish();
      return this.#keys.future(state, {});
    });
  }

  /** Scheduler facts: id, address, services, workers, and the versions it runs. */
  async identity(): Promise<SchedulerInfo> {
    this.#checkOpen();
    const msg = this.dialect.identityTakesNWorkers
      ? { op: "identity", n_workers: -1 }
      : { op: "identity" };
    const reply = await this.#call(msg, this.#timeoutMs);
    if (!isPlainObject(reply)) {
      throw new UnexpectedReply(`identity got an unexpected reply: ${String(reply)}`);
    }
    return { ...reply, workers: reply.workers ?? {}, versions: this.#versions } as SchedulerInfo;
  }

  /**
   * Sends one scheduler RPC (`{op, ...fields}`) and returns its reply, for handlers this client
   * has no method for, e.g. `client.rpc("get_task_status", { keys })`. `Serialized` values in
   * the reply are left undecoded.
   * @throws {RpcFailed} when the scheduler replies with an error.
   */
  async rpc(
    op: string,
    fields: Record<string, unknown> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    this.#checkOpen();
    return await this.#call({ ...fields, op }, options.timeoutMs ?? this.#timeoutMs);
  }

  // --- cluster operations (each in its own file) ---

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
   * @throws {InvalidModule} when the file cannot be read or is no importable module name.
   * @throws {InvalidModuleSyntax} for a syntax error, naming the file and line.
   * @throws {ModuleImportFailed} when importing fails on the cluster (e.g. a missing package).
   */
  async uploadFile(source: ModuleSource, options: UploadFileOptions = {}): Promise<UploadedModule> {
    this.#checkOpen();
    return await uploadModule(this.#context, await readModuleFile(source), options);
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
   * @throws {GraphBuildFailed} for something that is neither a node nor a collection.
   */
  persist(target: Persistable, options?: ResultOptions): Promise<Future>;
  /** Persists several nodes and collections at once; futures in the same order. */
  persist(targets: readonly Persistable[], options?: ResultOptions): Promise<Future[]>;
  async persist(
    target: Persistable | readonly Persistable[],
    options: ResultOptions = {},
  ): Promise<Future | Future[]> {
    this.#checkOpen();
    if (Array.isArray(target)) {
      return await persistAll(this.#context, this.#submission, target, options);
    }
    return (await persistAll(this.#context, this.#submission, [target as Persistable], options))[0];
  }

  /**
   * Calls a Python function on every worker, outside any task, like Python's `client.run`;
   * results by worker address. Arguments are plain values (`py.kwargs({...})` for keywords). A
   * function with a `dask_worker` parameter gets the worker object.
   *
   * ```ts
   * await client.run("importlib.metadata.version", "xarray"); // { "tcp://…": "2024.11.0", … }
   * ```
   * @throws {WorkerRunFailed} when it raises on a worker, naming the worker.
   */
  async run(fn: PyFunction | string, ...args: unknown[]): Promise<Record<string, unknown>> {
    this.#checkOpen();
    return await runOnWorkers(this.#context, fn, args);
  }

  /**
   * Forgets every task of every client and restarts every worker, like Python's
   * `client.restart` (e.g. to recover a wedged cluster). Pending futures reject with
   * {@link TaskCancelled}; resolves once as many workers as before are back.
   * @throws {RestartFailed} when they did not come back in time (workers without a nanny are
   *   only stopped).
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    this.#checkOpen();
    await restartCluster(this.#context, options);
  }

  /** The packages the scheduler and each worker run (Python's `client.get_versions()`). */
  async versions(options: { readonly timeoutMs?: number } = {}): Promise<ClusterVersions> {
    this.#checkOpen();
    return await clusterVersions(this.#context, options);
  }

  /**
   * Keeps futures on the scheduler under a name, for another client (a later script) to read
   * with {@link getDataset}, like Python's `client.publish_dataset`; the scheduler holds the
   * values until {@link unpublishDataset}, whatever this client does.
   * @throws {PublishedDatasetExists} when the name is taken (unless `override`).
   */
  async publishDataset(
    name: string,
    value: Future | readonly Future[],
    options: PublishOptions = {},
  ): Promise<void> {
    this.#checkOpen();
    await publishDataset(this.#context, name, value, options);
  }

  /**
   * A published dataset as futures of this client: one future if one was published, a list
   * for a list.
   * @throws {PublishedDatasetNotFound} naming the published datasets.
   */
  async getDataset(name: string): Promise<Future | Future[]> {
    this.#checkOpen();
    return await getDataset(this.#context, name);
  }

  /** Names of the datasets published on this scheduler. */
  async listDatasets(): Promise<string[]> {
    this.#checkOpen();
    return await listDatasets(this.#context);
  }

  /** Removes a published dataset (a missing one is no error). */
  async unpublishDataset(name: string): Promise<void> {
    this.#checkOpen();
    await unpublishDataset(this.#context, name);
  }

  /**
   * Closes the client: the scheduler releases all its keys, pending futures reject with
   * {@link ClientClosed}. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Closes the client at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- what futures ask for (see FutureOwner) ---

  async #result(future: Future, state: KeyState, timeoutMs: number | undefined): Promise<unknown> {
    this.#keys.held(future); // refuses a foreign future
    const work = (async () => {
      await state.wait();
      return (await gatherKeys(this.#context, [future.key])).get(future.key);
    })();
    return await withTimeout(
      work,
      timeoutMs,
      () => notWithin(`result of key ${future.key}`, timeoutMs),
    );
  }

  async #cancel(futures: readonly Future[], reason = "cancelled by the client"): Promise<void> {
    this.#checkOpen();
    const keys = [...new Set(futures.map((f) => f.key))];
    const op: StreamOp = {
      op: "cancel-keys",
      keys: keys.map((k) => this.#keys.wire(k)),
      force: false,
    };
    if (this.dialect.cancelNeedsReason) Object.assign(op, { reason, msg: reason });
    for (const key of keys) {
      // The scheduler releases cancelled keys for this client; forget them here too.
      this.#keys.forget(key)?.fail("cancelled", new TaskCancelled(key, reason));
    }
    await this.#stream.sendNow(op);
  }

  // --- progress ---

  #track(
    keys: Iterable<TaskKey>,
    outputs: readonly Future[],
    options: ProgressOptions,
    startedAt: number,
  ): void {
    this.#poller ??= new ProgressPoller((keys, timeoutMs) =>
      this.#call({ op: "get_task_status", keys }, timeoutMs)
    );
    trackProgress({ ...options, keys, outputs, startedAt, poller: this.#poller });
  }

  // --- the connection's life ---

  #warn(warning: ClientWarning): void {
    this.#warnings.push(warning);
    this.#onWarning?.(warning);
  }

  async #call(
    msg: RpcMessage,
    timeoutMs: number,
    decode?: DecodeMessageOptions,
  ): Promise<unknown> {
    try {
      return await this.#rpc.call(msg, { timeoutMs, decode });
    } catch (e) {
      // After a loss, report the loss rather than the pool's own closing error.
      if (this.#closedError) throw this.#closedError;
      throw e;
    }
  }

  /** Marks the connection lost: every pending future rejects at once. */
  #lose(cause: unknown): void {
    if (this.#closedError) return;
    const error = cause instanceof ConnectionLost ? cause : new ConnectionLost(
      `lost the connection to scheduler ${this.address}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.#closedError = error;
    this.#stream.stopHeartbeat();
    this.#keys.failAll(error);
    this.#stream.close();
    this.#rpc.close();
  }

  async #close(): Promise<void> {
    if (!this.#closedError) {
      this.#closedError = new ClientClosed(`client ${this.id} is closed`);
      this.#stream.stopHeartbeat();
      await withTimeout(
        this.#stream.finish([{ op: "close-client" }, { op: "close-stream" }]),
        this.#timeoutMs,
        () => notWithin("sending close-client", this.#timeoutMs),
      ).catch(() => {});
      this.#keys.failAll(this.#closedError);
    }
    this.#stream.close();
    this.#rpc.close();
    await this.#stream.done;
  }

  #checkOpen(): void {
    if (this.#closedError) throw this.#closedError;
  }
}

/** Every key of the graphs of `nodes` (keys of futures they use are not theirs). */
function nodeKeys(nodes: readonly Node[]): Iterable<string> {
  return collectGraph(nodes, () => false).keys();
}
