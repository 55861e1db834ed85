/**
 * The `update-graph` stream message in the envelopes schedulers understand (see
 * {@link GraphEra}): the graph dict wrapped as `LLGExpr` in `expr_ser`, or as
 * `ToPickle(HighLevelGraph)` in `graph_header`/`graph_frames`, with exactly the fields the
 * scheduler's handler takes (an unexpected or missing one makes it drop the client); see
 * `docs/wire-protocol.md`, "Graphs by release".
 * @module
 */
import { dumps } from "../codec/pickle/writer.ts";
import { PyCall, PyGlobal, PySet, type PyValue } from "../codec/pickle/python_values.ts";
import type { SchedulerDialect } from "./scheduler_era.ts";
import { Serialized } from "../codec/serialize.ts";

const RECONSTRUCT = new PyGlobal("dask._expr", "Expr._reconstruct");
const LLG_EXPR = new PyGlobal("dask._expr", "LLGExpr");
const TO_PICKLE = new PyGlobal("distributed.protocol.serialize", "ToPickle");
const HIGH_LEVEL_GRAPH = new PyGlobal("dask.highlevelgraph", "HighLevelGraph");
const MATERIALIZED_LAYER = new PyGlobal("dask.highlevelgraph", "MaterializedLayer");

/** The pickle header the scheduler's `deserialize` expects for a graph (no OOB buffers). */
const PICKLE_HEADER = { serializer: "pickle", writeable: [] };

/**
 * Builds the `update-graph` message for `dsk` (a `{key: Task}` dict) wanting `keys`.
 * `token` names the graph (any unique string). With `keysInOrder`, `dsk` holds exactly `keys`,
 * none depending on another: the scheduler then runs them in the order of `keys`
 * (`internal_priority`, as Python's `Client.map` sends) instead of ordering the graph itself with
 * `dask.order` (tens of µs per task of scheduler time).
 */
export function updateGraphMessage(
  dialect: SchedulerDialect,
  dsk: Record<string, PyValue>,
  keys: readonly string[],
  token: string,
  placement: GraphPlacement = {},
  keysInOrder = false,
): Record<string, unknown> {
  const common = commonFields(dialect, keys, placement);
  if (keysInOrder) common.internal_priority = new Map(keys.map((key, i) => [key, i]));
  if (dialect.era === "expr") {
    // Expr._reconstruct(LLGExpr, dsk, token, cache) avoids tokenizing the graph on the scheduler.
    const expr = new PyCall(RECONSTRUCT, [LLG_EXPR, dsk, token, {}]);
    return { ...common, expr_ser: new Serialized(PICKLE_HEADER, [dumps(expr)]) };
  }
  const layer = `dedl-${token}`;
  const hlg = new PyCall(HIGH_LEVEL_GRAPH, [
    { [layer]: new PyCall(MATERIALIZED_LAYER, [dsk]) },
    { [layer]: new PySet([]) },
  ]);
  return {
    ...common,
    graph_header: PICKLE_HEADER,
    graph_frames: [dumps(new PyCall(TO_PICKLE, [hlg]))],
  };
}

/**
 * The `update-graph` message for a graph pickled elsewhere (a worker, see `collection_graph.ts`):
 * `payload` goes out as the single pickle frame, byte for byte — `expr_ser` for `"expr"`, one
 * of `graph_frames` (a pickled `ToPickle(HighLevelGraph)`) for the older eras.
 */
export function prebuiltUpdateGraphMessage(
  dialect: SchedulerDialect,
  payload: Uint8Array,
  keys: readonly unknown[],
): Record<string, unknown> {
  const common = commonFields(dialect, keys, {});
  if (dialect.era === "expr") {
    return { ...common, expr_ser: new Serialized(PICKLE_HEADER, [payload]) };
  }
  return { ...common, graph_header: PICKLE_HEADER, graph_frames: [payload] };
}

/**
 * What the scheduler applies to every task an `update-graph` brings: `annotations` (global
 * annotations: `retries`, `workers`, `allow_other_workers`, …) and `user_priority`.
 */
export interface GraphPlacement {
  /** The scheduler's task annotations, by name. */
  readonly annotations?: Readonly<Record<string, unknown>>;
  /** Priority among ready tasks; higher first. */
  readonly userPriority?: number;
}

/** Fields every `update-graph` carries: the wanted keys, the required extras, the placement. */
function commonFields(
  dialect: SchedulerDialect,
  keys: readonly unknown[],
  placement: GraphPlacement,
): Record<string, unknown> {
  return {
    op: "update-graph",
    keys: [...keys],
    ...(dialect.spanMetadata ? { span_metadata: {} } : {}),
    internal_priority: null,
    submitting_task: null,
    ...(placement.annotations && Object.keys(placement.annotations).length > 0
      ? { annotations: { ...placement.annotations } }
      : {}),
    ...(placement.userPriority ? { user_priority: placement.userPriority } : {}),
  };
}
