/**
 * What the other layers of dedl-dask use from the protocol layer beyond its public API
 * (`mod.ts`): connection details a gateway client needs. Not part of the public surface; it may
 * change without notice.
 * @module
 */
export { formatAddress, parseAddress, type SchedulerAddress } from "./connection/address.ts";
export type { TlsMaterial } from "./connection/transport.ts";
export { warmUpTls } from "./connection/tls_warm_up.ts";
