/**
 * The DEDL multi-site layer: a site registry (DEDL's bridges built in, bridges.json files and
 * URLs), clusters at every site started in parallel, computations routed by their `location`
 * attribute, shutdown that leaves no cluster behind, and {@linkcode stopClustersOnSignal} for
 * programs that want that shutdown on Ctrl-C too.
 * @module
 */
export {
  type ComputedValue,
  type ComputeOptions,
  type ComputeOutcome,
  type ComputeTarget,
  MultiCluster,
  type MultiClusterOptions,
  type MultiNewClusterOptions,
  type SiteHandle,
  type SiteOutcome,
  type SiteStatus,
  type StoppedCluster,
} from "./multi_cluster.ts";
export {
  stopClustersOnSignal,
  type StopOnSignalOptions,
  type StopSignal,
} from "./stop_on_signal.ts";
export {
  DEDL_SITES,
  loadSiteRegistry,
  parseSiteRegistry,
  resolveSiteRegistry,
  type SiteConfig,
  type SiteRegistry,
  SITES_ENV,
} from "./registry.ts";
export { isSiteComputation, type SiteComputation } from "./site_computation.ts";
export type { JournalEntry } from "./cluster_journal.ts";
export {
  ClientReconnected,
  JournalUnavailable,
  type MultiClusterWarning,
  OrphanedClusters,
} from "./warnings.ts";
export * from "./errors.ts";
