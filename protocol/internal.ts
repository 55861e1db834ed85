/**
 * What the other layers of dedl-dask use from the protocol layer beyond its public API
 * (`mod.ts`): connection details a gateway client needs, and the graph builder's internals. Not
 * part of the public surface; it may change without notice.
 * @module
 */
export {
  type AddressScheme,
  formatAddress,
  parseAddress,
  type SchedulerAddress,
} from "./connection/address.ts";
export type { TlsMaterial } from "./connection/transport.ts";
export { warmUpTls } from "./connection/tls_warm_up.ts";
export { KEY_REFERENCE, type KeyReference } from "./graph/key_reference.ts";
export { type GraphEra, type SchedulerDialect } from "./graph/scheduler_era.ts";
export { pyGlobal } from "./codec/pickle/python_values.ts";
export { type ModuleFile, readModuleFile } from "./client/upload_file.ts";
