/**
 * How the tasks of one submission may run (Python's `retries=`, `workers=`,
 * `allow_other_workers=`, `priority=`), checked and turned into what `update-graph` carries.
 * @module
 */
import { GraphBuildFailed } from "../errors.ts";
import { showValue } from "../codec/show_value.ts";
import type { GraphPlacement } from "../graph/update_graph.ts";

/**
 * How the tasks a `Client.compute` or `Client.map` call sends may run — Python's
 * `retries=`, `workers=`, `allow_other_workers=` and `priority=`. They apply to the tasks that
 * call brings to the scheduler; keys the client already holds keep what they were sent with.
 */
export interface TaskOptions {
  /** Times a failed task runs again before its error is final. Default 0. */
  readonly retries?: number;
  /** Worker addresses (or host names) allowed to run the tasks. */
  readonly workers?: readonly string[];
  /** With `workers`: other workers may run the tasks when those cannot. Default `false`. */
  readonly allowOtherWorkers?: boolean;
  /** Among ready tasks, higher runs first (an integer). Default 0. */
  readonly priority?: number;
}

/**
 * Checks {@link TaskOptions} and turns them into the scheduler's annotations.
 * @throws {GraphBuildFailed} naming the invalid option.
 */
export function placementOf(options: TaskOptions): GraphPlacement {
  const { retries, workers, allowOtherWorkers, priority } = options;
  const invalid = (what: string, value: unknown, want: string): never => {
    throw new GraphBuildFailed(`task option ${what} is ${showValue(value)}; give ${want}`);
  };
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0)) {
    invalid("retries", retries, "an integer >= 0");
  }
  if (
    workers !== undefined &&
    (!Array.isArray(workers) || workers.length === 0 ||
      workers.some((w) => typeof w !== "string" || w === ""))
  ) {
    invalid("workers", workers, "a non-empty list of worker addresses or host names");
  }
  if (allowOtherWorkers !== undefined && workers === undefined) {
    invalid("allowOtherWorkers", allowOtherWorkers, "it only together with workers");
  }
  if (priority !== undefined && !Number.isSafeInteger(priority)) {
    invalid("priority", priority, "an integer");
  }
  const annotations: Record<string, unknown> = {};
  if (retries) annotations.retries = retries;
  if (workers) annotations.workers = [...workers];
  if (allowOtherWorkers) annotations.allow_other_workers = true;
  return { annotations, userPriority: priority };
}
