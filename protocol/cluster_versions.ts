/**
 * What a cluster runs: the scheduler's packages (its `versions` RPC) and each worker's (the
 * same handler on every worker, through the scheduler's `broadcast`), as Python's
 * `Client.get_versions()` reads them.
 * @module
 */
import type { ClientOps } from "./client_ops.ts";
import type { SchedulerVersions } from "./client.ts";
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
  ops: ClientOps,
  options: { readonly timeoutMs?: number } = {},
): Promise<ClusterVersions> {
  const timeoutMs = options.timeoutMs ?? ops.timeoutMs;
  const [scheduler, workers] = await Promise.all([
    ops.call({ op: "versions" }, timeoutMs),
    ops.call({
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

/** A `versions` reply (`{host, packages}`) as {@link SchedulerVersions}. */
export function parseVersions(reply: unknown): SchedulerVersions {
  const r = isRecord(reply) ? reply : {};
  const packages = isRecord(r.packages) ? r.packages as Record<string, string | null> : {};
  return {
    distributed: String(packages.distributed ?? "unknown"),
    dask: String(packages.dask ?? "unknown"),
    python: String(packages.python ?? "unknown"),
    packages,
    host: isRecord(r.host) ? r.host : {},
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) &&
    !(v instanceof Map);
}
