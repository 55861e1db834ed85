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
 * @module
 */
export {
  Client,
  type ClientOptions,
  type ScatterValue,
  type SchedulerInfo,
  type SchedulerVersions,
  type TaskOptions,
  type WorkerInfo,
} from "./client.ts";
export { type ClientWarning, VersionMismatchWarning } from "./client_warning.ts";
export { asCompleted, type AsCompletedOptions, type Completed } from "./as_completed.ts";
export { type ReturnWhen, wait, type WaitOptions, type WaitResult } from "./wait.ts";
export type { ModuleSource, UploadedModule, UploadFileOptions } from "./upload_file.ts";
export type { Persistable } from "./persist.ts";
export type { ClusterVersions } from "./cluster_versions.ts";
export type { RestartOptions } from "./restart.ts";
export type { PublishOptions } from "./published_datasets.ts";
export { Future, type FutureStatus, type ResultOptions } from "./future.ts";
export {
  Collection,
  KEY_REFERENCE,
  type KeyReference,
  Kwargs,
  Node,
  type NodeAttrs,
  py,
  PyFunction,
} from "./graph.ts";
export * from "./errors.ts";
export { NDArray, type NDArrayData, type NDArrayScalar } from "./numpy.ts";
export { PyException, PyObject } from "./pickle/python_objects.ts";
export {
  PyCall,
  PyFloat,
  PyGlobal,
  pyGlobal,
  PyInstance,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "./pickle/writer.ts";
export {
  type GraphEra,
  type PublishDialect,
  type SchedulerDialect,
  SUPPORTED_RANGE,
} from "./scheduler_era.ts";
export {
  type AddressScheme,
  formatAddress,
  parseAddress,
  type SchedulerAddress,
} from "./transport/address.ts";
export type { TlsMaterial } from "./transport/transport.ts";
export { warmUpTls } from "./transport/tls_warm_up.ts";
