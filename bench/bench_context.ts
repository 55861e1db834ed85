/**
 * What every bench gets from the runner: the fixtures, where its figures go, how many
 * repetitions to run and the size settings.
 * @module
 */
import type { PythonEra } from "../tests/replica/python_env.ts";
import type { BenchFixtures } from "./fixtures.ts";
import type { Summary } from "./report.ts";

/**
 * Where a simulated site runs its clusters: `inprocess` — scheduler and workers inside the site's
 * gateway process (dask-gateway's `InProcessBackend`): a start spawns nothing and costs the site
 * far less CPU time, which on this machine would be taken from the client and the other sites;
 * `process` — a process for the scheduler and one per worker (`UnsafeLocalBackend`, as the
 * replica's sites run them).
 */
export type SimBackend = "inprocess" | "process";

/** Sizes and switches from the command line. */
export interface BenchSettings {
  /** Repetitions per client (each a fresh process). */
  readonly reps: number;
  /** Tasks (and graph nodes) in the many-tasks bench. Default 10 000. */
  readonly tasks: number;
  /** Tasks of the large map + gather row of the many-tasks bench; 0 skips it. Default 50 000. */
  readonly largeTasks: number;
  /** Payload of the transfer bench in MiB of float64. Default 256. */
  readonly payloadMiB: number;
  /** Simulated sites in the multi-site bench. Default 4. */
  readonly sites: number;
  /** How the simulated sites run their clusters, each a row of its own. Default `inprocess`. */
  readonly simBackends: readonly SimBackend[];
  /** Also start clusters at the replica's two sites in the multi-site bench. */
  readonly replicaSites: boolean;
  /** Also measure transfers over a direct `tcp://` scheduler, for reference. */
  readonly tcpReference: boolean;
  /**
   * Software releases the cold-start and many-tasks benches run against, each a row of its own:
   * scheduler, workers and Python's client all of that release. Default DEDL's (`dedl`,
   * distributed 2023.8.0) and the newest (`current`).
   */
  readonly eras: readonly PythonEra[];
}

/** A bench's inputs. */
export interface BenchContext {
  readonly fx: BenchFixtures;
  readonly summary: Summary;
  readonly settings: BenchSettings;
}
