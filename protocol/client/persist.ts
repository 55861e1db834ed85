/**
 * `client.persist(...)`: compute something once and keep it on the cluster, for later
 * computations to read (no data through the client), as Python's `Client.persist` does.
 *
 * A plain node is computed and its future kept. A lazy collection ({@link Collection}) is kept
 * chunk by chunk, the way Python keeps it (distributed 2023.8.0 – 2026.x `Client.persist`):
 *
 * 1. A first graph, run on a worker with the cluster's own dask, turns the collection into the
 *    `update-graph` payload of its chunk tasks (no finalize step: the chunks are the result) and
 *    lists the chunk keys (`expr_ser` of `collections_to_expr([c], True).optimize()` from
 *    distributed 2025.4, a pickled `ToPickle(HighLevelGraph)` of `collections_to_dsk([c], True)`
 *    before; see `graph/collection_graph.ts` for the envelopes).
 * 2. The client submits that payload wanting every chunk key, and holds them all.
 * 3. Once every chunk is in memory, a last task rebuilds the collection over the kept chunks:
 *    `rebuild({key: ref(key)}, *args)` with `(rebuild, args) = c.__dask_postpersist__()`, where
 *    `ref` is what the scheduler reads as "the key already on the cluster" —
 *    `distributed.utils_comm.WrappedKey` for tuple graphs (DEDL's 2023.8.0 up to 2024.10),
 *    `dask._task_spec.TaskRef` after (Python puts its `Future`s there, subclasses of these). Its
 *    future is what `persist` returns: a later `py.collection(py.ref(kept).method("sum"))`
 *    builds its graph on a worker from that rebuilt collection, so its chunk entries name the
 *    kept keys, which the scheduler takes from memory (an entry `{key: ref(key)}` is an alias of
 *    itself and is dropped; see `_materialize_graph` and `convert_legacy_graph`).
 *
 * Keys of chunks are tuples (`('x', 0, 1)`); schedulers before 2023.9.0 name them by their
 * string, so there the first graph returns the keys through `dask.utils.stringify`.
 * @module
 */
import { PyGlobal } from "../codec/pickle/python_values.ts";
import { GraphBuildFailed, InvalidCollectionGraph } from "../errors.ts";
import { Collection, Node, py } from "../graph/py.ts";
import type { SchedulerDialect } from "../graph/scheduler_era.ts";
import type { ClientContext } from "./client_context.ts";
import type { Future, ResultOptions } from "./future.ts";
import type { KeyTable } from "./key_table.ts";
import type { Submission } from "./submission.ts";

const COLLECTIONS_TO_EXPR = "dask.base.collections_to_expr";
const COLLECTIONS_TO_DSK = "dask.base.collections_to_dsk";
const HLG_MERGE = "dask.highlevelgraph:HighLevelGraph.merge";
const TO_PICKLE = "distributed.protocol.serialize.ToPickle";
const PICKLE_DUMPS = "distributed.protocol.pickle.dumps";
const WRAPPED_KEY = new PyGlobal("distributed.utils_comm", "WrappedKey");
const TASK_REF = new PyGlobal("dask._task_spec", "TaskRef");
const STRINGIFY = new PyGlobal("dask.utils", "stringify");

/** What can be persisted: a node, or a lazy collection (`py.collection(node)`). */
export type Persistable = Node | Collection;

/** The nodes that persist one collection (see the module documentation). */
export interface PersistPlan {
  /** `(payload, wire keys)`: the chunks' `update-graph` payload and the keys it computes. */
  readonly graph: Node;
  /** The collection rebuilt over the kept chunks: the value `persist` returns a future of. */
  readonly rebuilt: Node;
}

/** The plan for `collection` on a scheduler of this dialect. */
export function persistPlan(
  collection: Collection,
  dialect: SchedulerDialect,
): PersistPlan {
  const c = collection.node;
  let payload: Node;
  let keys: Node;
  if (dialect.era === "expr") {
    const expr = py.call(COLLECTIONS_TO_EXPR, [c], true).method("optimize");
    payload = py.call(PICKLE_DUMPS, expr);
    keys = flatList(expr.method("__dask_keys__"));
  } else {
    const graph = py.call(HLG_MERGE, py.call(COLLECTIONS_TO_DSK, [c], true));
    payload = py.call(PICKLE_DUMPS, py.call(TO_PICKLE, graph));
    keys = flatList(c.method("__dask_keys__"));
  }
  const wireKeys = dialect.tupleKeys
    ? keys
    : py.call("builtins.list", py.call("builtins.map", STRINGIFY, keys));
  const ref = dialect.era === "tuple" ? WRAPPED_KEY : TASK_REF;
  const refs = py.call(
    "builtins.dict",
    py.call("builtins.zip", keys, py.call("builtins.map", ref, keys)),
  );
  const post = c.method("__dask_postpersist__");
  // rebuild(refs, *args), spelled with dask.utils.apply(func, args): no code of ours runs there.
  const rebuilt = py.call(
    "dask.utils.apply",
    post.item(0),
    py.call("operator.add", py.tuple(refs), post.item(1)),
  );
  return {
    graph: py.call("builtins.tuple", [payload, wireKeys]),
    rebuilt: rebuilt.withAttrs(collection.attrs),
  };
}

function flatList(nested: Node): Node {
  return py.call("builtins.list", py.call("dask.core.flatten", nested));
}

/**
 * Computes `targets` and keeps them on the cluster; resolves once every value is in memory.
 * @throws {GraphBuildFailed} for something that is neither a node nor a collection.
 * @throws {RemoteError} when a task or chunk fails (nothing stays kept).
 * @throws {RequestTimeout} after `options.timeoutMs` (nothing stays kept).
 */
export async function persistAll(
  ctx: ClientContext,
  submission: Submission,
  targets: readonly Persistable[],
  options: ResultOptions = {},
): Promise<Future[]> {
  for (const t of targets) {
    if (!(t instanceof Node) && !(t instanceof Collection)) {
      throw new GraphBuildFailed(
        `persist() takes nodes and py.collection(...) collections, got ${describe(t)}`,
      );
    }
  }
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const left = () => deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
  const done: Future[] = [];
  try {
    const nodes = targets.flatMap((t) => t instanceof Node ? [t] : []);
    const nodeFutures = nodes.map((n) => submission.nodes([n])[0]);
    done.push(...nodeFutures);
    const collections = await Promise.all(
      targets.filter((t): t is Collection => t instanceof Collection)
        .map((c) => persistCollection(ctx, submission, c, left)),
    );
    done.push(...collections);
    await Promise.all(nodeFutures.map((f) => f.wait({ timeoutMs: left() })));
    let n = 0;
    let k = 0;
    return targets.map((t) => t instanceof Node ? nodeFutures[n++] : collections[k++]);
  } catch (e) {
    for (const f of done) f.release();
    throw e;
  }
}

async function persistCollection(
  ctx: ClientContext,
  submission: Submission,
  collection: Collection,
  left: () => number | undefined,
): Promise<Future> {
  const plan = persistPlan(collection, ctx.dialect);
  // One graph: the rebuilt collection and the chunk keys come from the same collection object.
  const [builder, kept] = submission.nodes([plan.graph, plan.rebuilt]);
  try {
    const built = await builder.result({ timeoutMs: left() });
    const [payload, wireKeys] = parsePersistGraph(built, builder.key);
    const chunks = submission.prebuilt(payload, wireKeys, collection.attrs);
    holdParts(ctx.keys, kept, chunks);
    await Promise.all([kept, ...chunks].map((f) => f.wait({ timeoutMs: left() })));
    return kept;
  } catch (e) {
    kept.release();
    throw e;
  } finally {
    builder.release();
  }
}

/**
 * Makes `kept` hold `parts`: they are released with it (also when it is garbage collected), not
 * before, and a dataset publishing it holds them too.
 */
export function holdParts(keys: KeyTable, kept: Future, parts: readonly Future[]): void {
  const state = keys.held(kept);
  state.parts = [...(state.parts ?? []), ...parts.map((p) => keys.held(p))];
  const previous = state.onRelease;
  state.onRelease = () => {
    previous?.();
    for (const p of parts) p.release();
  };
}

/** Checks the first graph's value: `(payload bytes, non-empty list of keys)`. */
export function parsePersistGraph(value: unknown, builderKey: string): [Uint8Array, unknown[]] {
  if (
    !Array.isArray(value) || value.length !== 2 || !(value[0] instanceof Uint8Array) ||
    !Array.isArray(value[1]) || value[1].length === 0
  ) {
    throw new InvalidCollectionGraph(
      `the persist graph built by task ${builderKey} is unusable: expected (bytes, keys); is ` +
        `the node's value a Dask collection (has __dask_graph__)?`,
    );
  }
  return [value[0], value[1]];
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "object";
}
