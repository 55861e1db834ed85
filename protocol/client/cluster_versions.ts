/**
 * What a cluster runs: the scheduler's packages (its `versions` RPC) and each worker's (the
 * same handler on every worker, through the scheduler's `broadcast`), as Python's
 * `Client.get_versions()` reads them.
 * @module
 */
import type { ClientContext } from "./client_context.ts";
import { parseVersions, type SchedulerVersions } from "./scheduler_info.ts";
import { entries } from "./worker_run.ts";

/** Versions of the scheduler and of every worker. */
export interface ClusterVersions {
  /** The scheduler's. */
  readonly scheduler: SchedulerVersions;
  /** Each worker's, by address (workers that did not answer are left out). */
  readonly workers: Readonly<Record<string, SchedulerVersions>>;
}

/** Reads the scheduler's and the workers' versions. */
export async function clusterVersions(
  ctx: ClientContext,
  options: { readonly timeoutMs?: number } = {},
): Promise<ClusterVersions> {
  const timeoutMs = options.timeoutMs ?? ctx.timeoutMs;
  const [scheduler, workers] = await Promise.all([
    ctx.call({ op: "versions" }, timeoutMs),
    ctx.call({
      op: "broadcast",
      msg: { op: "versions", packages: [] },
      on_error: "ignore",
    }, timeoutMs),
  ]);
  return {
    scheduler: parseVersions(scheduler),
    workers: Object.fromEntries(entries(workers).map(([w, v]) => [w, parseVersions(v)])),
  };
}
