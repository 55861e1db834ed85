/**
 * Which `update-graph` format and message fields a scheduler understands, decided from the
 * `distributed` version its `versions` RPC reports (nothing else on the wire tells); see
 * `docs/wire-protocol.md`, "Versions".
 * @module
 */
import { UnsupportedSchedulerVersion } from "../errors.ts";

/**
 * How a graph travels in `update-graph`:
 * - `"expr"`: a pickled `dask._expr.LLGExpr` of `dask._task_spec` tasks in `expr_ser`
 *   (distributed ≥ 2025.4.0).
 * - `"hlg"`: a pickled `ToPickle(HighLevelGraph)` of `dask._task_spec` tasks in
 *   `graph_header`/`graph_frames` (2024.11.0 – 2025.3.x).
 * - `"tuple"`: the same envelope with classic `dask.core` task tuples and `WrappedKey`
 *   references (2023.4.0 – 2024.10.x; DEDL runs 2023.8.0).
 */
export type GraphEra = "expr" | "hlg" | "tuple";

/** What the client needs to know about a scheduler's protocol dialect. */
export interface SchedulerDialect {
  /** The `distributed` version string the scheduler reported. */
  readonly distributed: string;
  /** The graph envelope and task format to use. */
  readonly era: GraphEra;
  /**
   * `update-graph` must carry `span_metadata` (≥ 2024.5.2); older schedulers drop a client that
   * sends it.
   */
  readonly spanMetadata: boolean;
  /** `cancel-keys` requires `reason` and `msg` (≥ 2025.3.0; older rejects them). */
  readonly cancelNeedsReason: boolean;
  /** The `identity` RPC takes `n_workers` (≥ 2025.4.0; older rejects it). */
  readonly identityTakesNWorkers: boolean;
  /**
   * The scheduler answers `heartbeat-client` (≥ 2025.4.0); older ones never do, so a quiet
   * stream there says nothing about the scheduler's health.
   */
  readonly heartbeatReplies: boolean;
  /**
   * Tuple keys (a collection's chunks, e.g. `('x', 0)`) stay tuples on the wire, as msgpack
   * arrays (≥ 2023.9.0); older schedulers turn every key into its string, `"('x', 0)"`.
   */
  readonly tupleKeys: boolean;
  /**
   * `register_worker_plugin` takes `idempotent` (≥ 2023.9.2; a required keyword from 2026.6.0,
   * rejected before 2023.9.2).
   */
  readonly pluginIdempotent: boolean;
  /** The `restart` RPC requires `stimulus_id` (≥ 2024.4.0; older rejects it). */
  readonly restartStimulusId: boolean;
  /** How published datasets are put and deleted (see {@link PublishDialect}). */
  readonly publish: PublishDialect;
}

/**
 * The scheduler's `publish_*` handlers (distributed/publish.py):
 * - `"single"`: one dataset per call, `publish_put(keys, data, name, override, client)`
 *   (< 2024.4.2).
 * - `"flush"`: the same calls, plus `publish_wait_flush(uid)` to wait until the client's stream
 *   has caught up (2024.4.2 – 2026.3.x).
 * - `"batched"`: lists of names, keys and data, and the `uid` of a stream flush in
 *   `publish_put`/`publish_delete` (≥ 2026.6.0).
 */
export type PublishDialect = "single" | "flush" | "batched";

/**
 * Oldest supported release: from distributed 2023.4.0 on, `update-graph` takes the graph as a
 * pickled `HighLevelGraph` (before, as per-task pickles in another message layout).
 */
export const MIN_SUPPORTED = "2023.4.0";
/** Human-readable supported range, used in errors. */
export const SUPPORTED_RANGE =
  `distributed >= ${MIN_SUPPORTED} (tested: 2023.8.0, 2024.8.0, 2025.3.0 and 2026.8.0)`;

/** Parses the leading `major.minor.patch` of a version such as `2025.4.1` or `2026.8.0+3.gabc`. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(v: [number, number, number], min: string): boolean {
  const m = parseVersion(min)!;
  for (let i = 0; i < 3; i++) if (v[i] !== m[i]) return v[i] > m[i];
  return true;
}

/**
 * The dialect of a scheduler running `distributed` `version`.
 * @throws {UnsupportedSchedulerVersion} for versions older than {@link MIN_SUPPORTED} or
 *   that cannot be parsed.
 */
export function schedulerDialect(version: unknown): SchedulerDialect {
  const text = typeof version === "string" ? version : String(version);
  const v = typeof version === "string" ? parseVersion(version) : undefined;
  if (!v || !atLeast(v, MIN_SUPPORTED)) {
    throw new UnsupportedSchedulerVersion(text, SUPPORTED_RANGE);
  }
  return {
    distributed: text,
    era: atLeast(v, "2025.4.0") ? "expr" : atLeast(v, "2024.11.0") ? "hlg" : "tuple",
    spanMetadata: atLeast(v, "2024.5.2"),
    cancelNeedsReason: atLeast(v, "2025.3.0"),
    identityTakesNWorkers: atLeast(v, "2025.4.0"),
    heartbeatReplies: atLeast(v, "2025.4.0"),
    tupleKeys: atLeast(v, "2023.9.0"),
    pluginIdempotent: atLeast(v, "2023.9.2"),
    restartStimulusId: atLeast(v, "2024.4.0"),
    publish: atLeast(v, "2026.6.0") ? "batched" : atLeast(v, "2024.4.2") ? "flush" : "single",
  };
}
