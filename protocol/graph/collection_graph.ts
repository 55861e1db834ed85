/**
 * How a lazy Dask collection reaches the scheduler as its full task graph, without Python here.
 *
 * A first small task graph (the *builder*), run on a worker, turns the collection into exactly
 * what the scheduler's `update-graph` accepts and returns it as pickle bytes plus the output
 * key(s). The client then sends those bytes untouched in its own `update-graph` and waits for
 * the output key like for any future. The builder only calls functions that ship with
 * dask/distributed (no Python package of ours is installed on clusters) and mirrors what
 * Python's `Client.compute(collection)` does in each {@link GraphEra}:
 *
 * - `"expr"` (distributed ≥ 2025.4): `FinalizeCompute(collections_to_expr([c], True))
 *   .optimize()`, pickled by `distributed.protocol.pickle.dumps` → `expr_ser`; output keys from
 *   `__dask_keys__()`.
 * - `"hlg"` (2024.11 – 2025.3): `HighLevelGraph.merge(collections_to_dsk([c], True),
 *   {name: (postcompute, c.__dask_keys__(), *extra)})` wrapped in `ToPickle` → `graph_frames`;
 *   the finalize key `name` is chosen here.
 *
 * Why this rather than a driver task that runs `with worker_client() as c: return
 * c.compute(coll).result()` (both tried against real 2025.3.0 and 2026.8.0 schedulers; wall time
 * is the same, 2.1 s vs 2.2 s for 1 GB on 2 workers): a driver needs Python code of its own (the
 * `with` block), which clusters do not have; cancelling the driver does not stop its inner
 * computation (measured: workers kept processing 1.5–2.6 s, until every chunk was done, against
 * 0.05 s here); its inner client owns the chunk keys; the result is copied through the driver;
 * and the error names the driver, not the chunk. Here each chunk is a plain task of the
 * scheduler: no worker thread waits (no deadlock on 1 worker × 1 thread), cancelling is a plain
 * `cancel-keys`, the scheduler releases every intermediate key, and the chunk a failure started
 * at is found in the scheduler's story (`get_story`).
 * @module
 */
import { InvalidCollectionGraph } from "../errors.ts";
import { type Collection, type Node, py } from "./py.ts";
import type { GraphEra } from "./scheduler_era.ts";
import { sha1Hex } from "../codec/sha1.ts";
import { showValue } from "../codec/show_value.ts";

/** The builder's answer: the `update-graph` payload and the key(s) it computes. */
export interface CollectionGraph {
  /** One pickle: the finalised expression (`expr_ser`) or `ToPickle(HighLevelGraph)`. */
  readonly payload: Uint8Array;
  /** Output keys, one per collection (finalised values). */
  readonly keys: readonly string[];
  /**
   * Every task key of the graph (strings, or tuples as arrays), when the builder was asked for
   * them (see {@link TaskKeyForm}): what progress reports count.
   */
  readonly taskKeys?: readonly (string | readonly (string | number)[])[];
}

/**
 * Whether the builder also lists every task key of the graph, and how: as the scheduler will
 * hold them (`"as-is"`), or as their `str()` (`"str"`, for schedulers before 2023.9.0, which
 * stringify keys).
 */
export type TaskKeyForm = "as-is" | "str";

const COLLECTIONS_TO_EXPR = "dask.base.collections_to_expr";
const FINALIZE_COMPUTE = "dask._expr.FinalizeCompute";
const COLLECTIONS_TO_DSK = "dask.base.collections_to_dsk";
const HLG_MERGE = "dask.highlevelgraph:HighLevelGraph.merge";
const TO_PICKLE = "distributed.protocol.serialize.ToPickle";
const PICKLE_DUMPS = "distributed.protocol.pickle.dumps";
const PICKLE_LOADS = "distributed.protocol.pickle.loads";

/**
 * The builder node for `collection` in the scheduler's `era`: its value is
 * `(payload bytes, output keys)` (see {@link parseCollectionGraph}).
 */
export function collectionGraphBuilder(
  collection: Collection,
  era: GraphEra,
  taskKeys?: TaskKeyForm,
): Node {
  const c = collection.node;
  if (era === "expr") {
    const expr = py.call(FINALIZE_COMPUTE, py.call(COLLECTIONS_TO_EXPR, [c], true))
      .method("optimize");
    const payload = py.call(PICKLE_DUMPS, expr);
    // Keys are read from a copy unpickled from the payload: exactly what the scheduler gets,
    // and no task materialises the graph object another task is pickling.
    const keys = taskKeys &&
      keysOf(py.call(PICKLE_LOADS, payload).method("__dask_graph__"), taskKeys);
    return py.call("builtins.tuple", [
      payload,
      expr.method("__dask_keys__"),
      ...(keys ? [keys] : []),
    ]);
  }
  const name = finalizeKey(c);
  const post = c.method("__dask_postcompute__");
  // A legacy task tuple `(finalize, keys, *extra)`: the scheduler turns the graph keys inside
  // `keys` into dependencies, as for `dask.delayed.finalize` (no private helper needed).
  const finalize = py.call(
    "operator.add",
    py.tuple(post.item(0), c.method("__dask_keys__")),
    post.item(1),
  );
  const graph = py.call(HLG_MERGE, py.call(COLLECTIONS_TO_DSK, [c], true), { [name]: finalize });
  const payload = py.call(PICKLE_DUMPS, py.call(TO_PICKLE, graph));
  const keys = taskKeys && keysOf(py.call(PICKLE_LOADS, payload).attr("data"), taskKeys);
  return py.call("builtins.tuple", [payload, [name], ...(keys ? [keys] : [])]);
}

/** The keys of a graph mapping, listed (as `str()` for `"str"`). */
function keysOf(graph: Node, form: TaskKeyForm): Node {
  return py.call(
    "builtins.list",
    form === "str" ? py.call("builtins.map", py.fn("builtins.str").global, graph) : graph,
  );
}

/**
 * Checks the builder's value: `(bytes, keys)` with keys a (nested) list of strings.
 * @throws {InvalidCollectionGraph} when it has another shape (e.g. a tuple key, which this client
 *   cannot track).
 */
export function parseCollectionGraph(value: unknown, builderKey: string): CollectionGraph {
  const bad = (why: string) =>
    new InvalidCollectionGraph(
      `the collection graph built by task ${builderKey} is unusable: ${why}; is the node's ` +
        `value a Dask collection (has __dask_graph__)?`,
    );
  if (
    !Array.isArray(value) || (value.length !== 2 && value.length !== 3) ||
    !(value[0] instanceof Uint8Array)
  ) {
    throw bad("expected (bytes, keys) or (bytes, keys, task keys)");
  }
  const keys = flatten(value[1]);
  if (keys.length === 0) throw bad("it has no output key");
  for (const k of keys) {
    if (typeof k !== "string") throw bad(`output key ${showValue(k)} is not a string`);
  }
  if (value.length === 2) return { payload: value[0], keys: keys as string[] };
  const taskKeys = value[2];
  if (!Array.isArray(taskKeys) || !taskKeys.every(isTaskKey)) {
    throw bad("its task keys are not a list of strings and tuples");
  }
  return { payload: value[0], keys: keys as string[], taskKeys };
}

function isTaskKey(k: unknown): k is string | (string | number)[] {
  if (typeof k === "string") return true;
  return Array.isArray(k) && k.length > 0 &&
    k.every((p) => typeof p === "string" || typeof p === "number" || typeof p === "bigint");
}

function flatten(value: unknown, depth = 0): unknown[] {
  if (!Array.isArray(value) || depth > 32) return [value];
  return value.flatMap((v) => flatten(v, depth + 1));
}

function finalizeKey(node: Node): string {
  return `finalize-${sha1Hex(node.key).slice(0, 32)}`;
}
