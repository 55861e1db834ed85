/**
 * The Dask protocol layer: a native TypeScript client for Dask `distributed` schedulers —
 * connections (`tcp://`, `tls://`, `gateway://`), graphs of Python calls built with {@link py},
 * futures, and results decoded into JS values without running Python here.
 *
 * ```ts
 * import { Client, py } from "./protocol/mod.ts";
 * await using client = await Client.connect("tcp://127.0.0.1:8786");
 * const x = client.submit(py.fn("numpy.arange"), 10);
 * const total = client.submit("numpy.sum", x);
 * console.log(await total.result()); // 45
 *
 * // A lazy Dask collection, its chunks computed over all workers:
 * const mean = py.call("xarray.open_zarr", "/data/t2m.zarr").item("t2m").method("mean");
 * console.log(await (await client.computeCollection(py.collection(mean.attr("data")))).result());
 * ```
 *
 * What is here:
 * - {@link Client} (connect, submit, map, compute, computeCollection, gather, scatter, persist,
 *   uploadFile, run, restart, versions, published datasets) and the {@link Future}s it returns,
 *   with {@link asCompleted} and {@link wait} over several of them; progress reports of a
 *   computation ({@link TaskProgress}, {@link withProgress});
 * - {@link py}, which builds {@link Node}s and {@link Collection}s of Python calls;
 * - the values results decode to ({@link NDArray}, {@link PyObject}, {@link PyException}) and
 *   the Python values JS lacks, to pass as arguments ({@link PyTuple}, {@link PyFloat}, …);
 * - warnings ({@link VersionMismatchWarning}) and errors: every one extends
 *   {@link DaskProtocolError} and has a stable `code` (listed in `docs/errors.md`).
 *
 * What other layers of dedl-dask use beyond this is in `internal.ts`; it is not public.
 * @module
 */
export { Client } from "./client/client.ts";
export type { ClientOptions } from "./client/client_options.ts";
export type { TaskOptions } from "./client/task_options.ts";
export type { ScatterValue } from "./client/scatter.ts";
export type { SchedulerInfo, SchedulerVersions, WorkerInfo } from "./client/scheduler_info.ts";
export { type ClientWarning, VersionMismatchWarning } from "./client/client_warning.ts";
export { Future, type ResultOptions } from "./client/future.ts";
export type { FutureStatus } from "./client/key_state.ts";
export { asCompleted, type AsCompletedOptions, type Completed } from "./client/as_completed.ts";
export { type ReturnWhen, wait, type WaitOptions, type WaitResult } from "./client/wait.ts";
export type { ModuleSource, UploadedModule, UploadFileOptions } from "./client/upload_file.ts";
export type { Persistable } from "./client/persist.ts";
export type { ClusterVersions } from "./client/cluster_versions.ts";
export type { RestartOptions } from "./client/restart.ts";
export type { PublishOptions } from "./client/published_datasets.ts";
export {
  type ProgressListener,
  type ProgressOptions,
  type ProgressState,
  type TaskProgress,
  withProgress,
} from "./client/progress.ts";
export {
  ProgressBoard,
  progressLine,
  type ProgressRow,
  showProgress,
} from "./client/progress_board.ts";
export type { TlsMaterial } from "./connection/transport.ts";
export { SUPPORTED_RANGE } from "./graph/scheduler_era.ts";

export { Collection, Kwargs, Node, type NodeAttrs, py, PyFunction } from "./graph/py.ts";
export { NDArray, type NDArrayData, type NDArrayScalar } from "./codec/numpy.ts";
export { PyException, PyObject } from "./codec/pickle/python_objects.ts";
export {
  PyCall,
  PyFloat,
  PyGlobal,
  PyInstance,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "./codec/pickle/python_values.ts";

export { DedlDaskError, type ErrorKind, type MimeBundle } from "../base/mod.ts";
export * from "./errors.ts";
export * from "./deprecated.ts";
