/**
 * Which `update-graph` format and message fields a scheduler understands, decided from the
 * `distributed` version its `versions` RPC reports (nothing else on the wire tells).
 * @module
 */
import { UnsupportedSchedulerVersionError } from "./errors.ts";

/**
 * `"expr"`: graphs travel as a pickled `dask._expr.LLGExpr` in `expr_ser` (distributed ≥ 2025.4.0).
 * `"hlg"`: graphs travel as a pickled `ToPickle(HighLevelGraph)` in `graph_header`/`graph_frames`
 * with `span_metadata` (distributed 2024.11.0 – 2025.3.x).
 */
export type GraphEra = "expr" | "hlg";

/** What the client needs to know about a scheduler's protocol dialect. */
export interface SchedulerDialect {
  /** The `distributed` version string the scheduler reported. */
  readonly distributed: string;
  /** The graph envelope to use. */
  readonly era: GraphEra;
  /** `cancel-keys` requires `reason` and `msg` (≥ 2025.3.0; older rejects them). */
  readonly cancelNeedsReason: boolean;
  /** The `identity` RPC takes `n_workers` (≥ 2025.4.0; older rejects it). */
  readonly identityTakesNWorkers: boolean;
}

/**
 * Oldest supported release: graphs are built from `dask._task_spec` classes (`Task`, `TaskRef`,
 * `DataNode`), which schedulers handle from distributed 2024.11.0 on.
 */
export const MIN_SUPPORTED = "2024.11.0";
/** Human-readable supported range, used in errors. */
export const SUPPORTED_RANGE = `distributed >= ${MIN_SUPPORTED} (tested: 2025.3.0 and 2026.8.0)`;

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
 * @throws {UnsupportedSchedulerVersionError} for versions older than {@link MIN_SUPPORTED} or
 *   that cannot be parsed.
 */
export function schedulerDialect(version: unknown): SchedulerDialect {
  const text = typeof version === "string" ? version : String(version);
  const v = typeof version === "string" ? parseVersion(version) : undefined;
  if (!v || !atLeast(v, MIN_SUPPORTED)) {
    throw new UnsupportedSchedulerVersionError(text, SUPPORTED_RANGE);
  }
  return {
    distributed: text,
    era: atLeast(v, "2025.4.0") ? "expr" : "hlg",
    cancelNeedsReason: atLeast(v, "2025.3.0"),
    identityTakesNWorkers: atLeast(v, "2025.4.0"),
  };
}
