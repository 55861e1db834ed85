/**
 * dedl-dask: run Dask work at every DestinE Data Lake (DEDL) site from TypeScript.
 *
 * Four entry points, from the top down:
 *
 * 1. {@linkcode MultiCluster}: clusters at several DEDL sites used as one. `newCluster()` starts
 *    one per site in parallel, `compute(node)` runs a computation at the site its `location`
 *    attribute names, `shutdown()` (or `await using`) stops them all;
 *    {@linkcode stopClustersOnSignal} does that on Ctrl-C too, if the program wants it.
 * 2. {@linkcode OidcAuth}: the login at DEDL (a DESP account, a DEDL password, the device login
 *    or a service account), handing out verified access tokens renewed before expiry.
 * 3. {@linkcode Gateway}: one site's dask-gateway: cluster options, start, scale, stop, and the
 *    scheduler connection through the gateway's TLS proxy ({@linkcode GatewayCluster}).
 * 4. {@linkcode Client}: the native Dask client, with {@linkcode py} to build graphs of Python
 *    calls; results come back as JS values ({@linkcode NDArray}, {@linkcode PyObject}, …).
 *    {@linkcode asCompleted} and {@linkcode wait} take several futures (of any clients).
 *
 * Long computations report their progress per site ({@linkcode TaskProgress}: `onProgress` in
 * `compute` / `computeAll`, or {@linkcode withProgress} to iterate the reports); in a Deno
 * Jupyter notebook {@linkcode showProgress} draws them as bars updated in place, and
 * `MultiCluster`, clusters, site lists, arrays and errors render as tables and images.
 *
 * Every error is a {@linkcode DedlDaskError} with a stable `code` (e.g.
 * `ERR_INVALID_CREDENTIALS`) and a {@linkcode ErrorKind} (`usage`, `auth`, `unavailable`,
 * `remote`, `cancelled`, `protocol`, `timeout`); the {@linkcode errors} namespace holds every
 * class. A failed task is a {@linkcode RemoteError}.
 *
 * Each layer has its own entry with everything it offers: `./protocol`, `./auth`, `./gateway`,
 * `./multicluster` and `./cli` (`deno.json` `exports`).
 *
 * The library writes nothing to the console and installs no signal handler by itself; the
 * terminal helpers (password prompt, device prompt) run only when a login is asked to use them.
 *
 * @example
 * ```ts
 * import { MultiCluster, OidcAuth, py, stopClustersOnSignal } from "./mod.ts";
 *
 * await using auth = await OidcAuth.password({ username: "me" }); // asks for the password
 * await using mc = await MultiCluster.connect({ auth });
 * using _ = stopClustersOnSignal(mc, { exit: true }); // Ctrl-C stops every cluster, then exits
 * await mc.newCluster();
 * const mean = py.call(py.fn("xarray.open_zarr"), "https://…/t2m.zarr")
 *   .item("t2m").method("mean").method("item")
 *   .withAttrs({ location: "lumi" });
 * console.log(await mc.compute(mean)); // computed at LUMI
 * ```
 *
 * @module
 */
export {
  ClientReconnected,
  type ComputeOptions,
  type ComputeOutcome,
  type JournalEntry,
  JournalUnavailable,
  MultiCluster,
  type MultiClusterOptions,
  type MultiClusterWarning,
  type MultiNewClusterOptions,
  OrphanedClusters,
  type SiteOutcome,
  type SiteRegistry,
  type SiteStatus,
  stopClustersOnSignal,
  type StopOnSignalOptions,
} from "./lib/multicluster/mod.ts";
export {
  type ClientCredentialsLoginOptions,
  type DespLoginOptions,
  type DeviceCodeLoginOptions,
  FileTokenCache,
  OidcAuth,
  type PasswordLoginOptions,
  type TokenSource,
} from "./lib/auth/mod.ts";
export {
  type ClusterOptionValues,
  Gateway,
  GatewayCluster,
  type GatewayOptions,
  PossibleOrphans,
} from "./lib/gateway/mod.ts";
export {
  asCompleted,
  Client,
  type ClientOptions,
  Collection,
  Future,
  NDArray,
  Node,
  type ProgressListener,
  py,
  PyObject,
  RemoteError,
  showProgress,
  type TaskOptions,
  type TaskProgress,
  VersionMismatchWarning,
  wait,
  withProgress,
} from "./protocol/mod.ts";
export {
  ArrayExpr,
  type Computed,
  type ComputedArray,
  Dataset,
  openDataset,
  type OpenDatasetOptions,
  quickLookPng,
} from "./lib/dataset/mod.ts";
export { DedlDaskError, type ErrorKind } from "./base/mod.ts";
export * as errors from "./errors.ts";
