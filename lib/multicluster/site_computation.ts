/**
 * Work that knows how to compute itself on one site's cluster, routed like a node by its
 * client-side attributes: what `MultiCluster.compute` accepts besides `py` nodes and
 * collections (e.g. the dataset layer's lazy array expressions).
 * @module
 */
import type { Client, NodeAttrs, ProgressOptions, ResultOptions } from "../../protocol/mod.ts";

/** Something computed as a whole at the site its attributes name. */
export interface SiteComputation<T = unknown> {
  /** Client-side attributes; `location` (or the compute call's `locationKey`) names the site. */
  readonly attrs: NodeAttrs;
  /** What it is, for error messages (e.g. `flood of https://…/flood.zarr`). */
  readonly description: string;
  /**
   * Computes it with the site's client and resolves to its result; `onProgress`, when given,
   * is for the client's reports on its main computation (`Client.computeCollection`,
   * `Client.compute`).
   */
  computeOn(client: Client, options?: ResultOptions & ProgressOptions): Promise<T>;
}

/** Whether a compute target is a {@link SiteComputation} (rather than a node or collection). */
export function isSiteComputation(target: unknown): target is SiteComputation {
  return typeof target === "object" && target !== null &&
    typeof (target as SiteComputation).computeOn === "function" &&
    typeof (target as SiteComputation).attrs === "object";
}
