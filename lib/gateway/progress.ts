/**
 * Progress events while a cluster starts and while workers join, so that a script or CLI can
 * show what the site is doing instead of a silent wait (dask/dask-gateway#455).
 * @module
 */
import type { ClusterStatus } from "./cluster_report.ts";

/** One progress event. */
export type ClusterProgress =
  /** The gateway reported a new status (the first event is the status at the start of the wait). */
  | {
    readonly kind: "status";
    readonly cluster: string;
    readonly status: ClusterStatus;
    /** Milliseconds since the wait began. */
    readonly elapsedMs: number;
  }
  /** The scheduler reported a new number of connected workers. */
  | {
    readonly kind: "workers";
    readonly cluster: string;
    readonly workers: number;
    /** The number waited for. */
    readonly wanted: number;
    /** Milliseconds since the wait began. */
    readonly elapsedMs: number;
  };

/** Receives progress events; exceptions it throws are ignored so they cannot break the wait. */
export type ProgressCallback = (event: ClusterProgress) => void;

/** Calls `callback` with `event`, shielding the caller from the callback's exceptions. */
export function report(callback: ProgressCallback | undefined, event: ClusterProgress): void {
  if (!callback) return;
  try {
    callback(event);
  } catch {
    // A display callback must not abort a cluster start.
  }
}
