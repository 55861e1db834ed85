/**
 * The DEDL multi-site layer: a site registry (DEDL's bridges built in, bridges.json files and
 * URLs), clusters at every site started in parallel, computations routed by their `location`
 * attribute, and shutdown that leaves no cluster behind.
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
} from "./multi_cluster.ts";
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
export {
  InvalidSiteRegistry,
  MissingLocation,
  MultiClusterError,
  SiteUnavailable,
  UnknownLocation,
} from "./errors.ts";
