/**
 * dask-gateway client: start, find, scale and stop Dask clusters on a gateway with an OIDC
 * bearer token, and connect to their schedulers through the gateway's TLS/SNI proxy.
 *
 * ```ts
 * const gateway = new Gateway({ address, proxyAddress, auth });
 * await using cluster = await gateway.newCluster({ worker_cores: 2 });
 * await cluster.scale(2);
 * await cluster.waitForWorkers(2);
 * await using client = await cluster.getClient();
 * ```
 * @module
 */
export {
  type AdaptOptions,
  type ConnectClusterOptions,
  DEFAULT_CLUSTER_START_TIMEOUT_MS,
  DEFAULT_GATEWAY_TIMEOUT_MS,
  Gateway,
  type GatewayOptions,
  type NewClusterOptions,
  type ScaleResult,
  type StartWaitOptions,
} from "./gateway.ts";
export {
  DEFAULT_WORKERS_TIMEOUT_MS,
  GatewayCluster,
  type WaitForWorkersOptions,
} from "./cluster.ts";
export { CLUSTER_STATUSES, ClusterReport, type ClusterStatus } from "./cluster_report.ts";
export {
  type ClusterOptionField,
  ClusterOptionsSpec,
  type ClusterOptionValue,
  type ClusterOptionValues,
  type OptionSpec,
} from "./options.ts";
export type { GatewayEndpoints } from "./address.ts";
export type { ClusterProgress, ProgressCallback } from "./progress.ts";
export type { AccessTokenOptions, TokenSource } from "../auth/mod.ts";
export type { TlsMaterial } from "../../protocol/internal.ts";
export * from "./errors.ts";
export { CleartextToken } from "./cleartext_tokens.ts";
export { PossibleOrphans } from "./lost_create.ts";
export type { GatewayWarning } from "./warnings.ts";
export * from "./deprecated.ts";
