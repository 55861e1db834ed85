/**
 * What the other layers of dedl-dask use from the protocol layer beyond its public API
 * (`mod.ts`): connection details a gateway client needs. Not part of the public surface; it may
 * change without notice.
 * @module
 */
export { formatAddress, parseAddress, type SchedulerAddress } from "./transport/address.ts";
export type { TlsMaterial } from "./transport/transport.ts";
export { warmUpTls } from "./transport/tls_warm_up.ts";
export { type ModuleFile, readModuleFile } from "./upload_file.ts";
