/**
 * What a scheduler tells about itself: the package versions it runs (`versions` RPC) and its
 * identity with its workers (`identity` RPC).
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";

/** Versions the scheduler reported (`versions` RPC). */
export interface SchedulerVersions {
  /** `distributed` version, e.g. `"2026.8.0"`. */
  readonly distributed: string;
  /** `dask` version. */
  readonly dask: string;
  /** Python version string of the scheduler. */
  readonly python: string;
  /** All packages the scheduler reported (`null` when not installed). */
  readonly packages: Readonly<Record<string, string | null>>;
  /** Host facts (OS, machine, …). */
  readonly host: Readonly<Record<string, unknown>>;
}

/** One worker as the scheduler describes it in `identity` (further fields pass through). */
export interface WorkerInfo {
  /** Always `"Worker"`. */
  readonly type: string;
  /** Worker id. */
  readonly id: string;
  /** Host the worker runs on. */
  readonly host: string;
  /** The worker's name (often its address or an integer). */
  readonly name: unknown;
  /** Threads the worker runs tasks in. */
  readonly nthreads: number;
  /** Memory limit in bytes (0 = none). */
  readonly memory_limit: number;
  /** Lifecycle state, e.g. `"running"` (newer schedulers). */
  readonly status?: string;
  /** Any further field of the scheduler's reply. */
  readonly [field: string]: unknown;
}

/** Scheduler facts: the `identity` reply (further fields pass through) plus its versions. */
export interface SchedulerInfo {
  /** Always `"Scheduler"`. */
  readonly type: string;
  /** Scheduler id. */
  readonly id: string;
  /** The scheduler's own listening address. */
  readonly address: string;
  /** Extra services by name, e.g. `{dashboard: 8787}`. */
  readonly services: Readonly<Record<string, unknown>>;
  /** Start time, seconds since the epoch. */
  readonly started: number;
  /** Workers by address. */
  readonly workers: Readonly<Record<string, WorkerInfo>>;
  /** Versions the scheduler runs. */
  readonly versions: SchedulerVersions;
  /** Any further field of the scheduler's reply. */
  readonly [field: string]: unknown;
}

/** The versions in a `versions` RPC reply (`"unknown"` for what it lacks). */
export function parseVersions(reply: unknown): SchedulerVersions {
  const r = isPlainObject(reply) ? reply : {};
  const packages = isPlainObject(r.packages) ? r.packages as Record<string, string | null> : {};
  return {
    distributed: String(packages.distributed ?? "unknown"),
    dask: String(packages.dask ?? "unknown"),
    python: String(packages.python ?? "unknown"),
    packages,
    host: isPlainObject(r.host) ? r.host : {},
  };
}
