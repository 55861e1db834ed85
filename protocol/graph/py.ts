/**
 * The `py` graph builder: describe Python calls from TypeScript as a graph of {@link Node}s that
 * a Dask cluster computes. Each node becomes one `dask._task_spec.Task`; its key is a hash of its
 * content, so an identical sub-graph built twice has the same keys and is computed once.
 *
 * ```ts
 * const x = py.call(py.fn("numpy.arange"), 10);
 * const total = x.method("sum");
 * const future = client.compute(total);
 * ```
 * @module
 */
import { GraphBuildFailed } from "../errors.ts";
import { isKeyReference, type KeyReference } from "./key_reference.ts";
import {
  PyCall,
  PyFloat,
  PyGlobal,
  pyGlobal,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "../codec/pickle/python_values.ts";
import { sha1Hex } from "../codec/sha1.ts";
import { TASK_SPEC } from "./task_spec.ts";

/** Attributes attached to a node for the client side (e.g. `location` for routing). */
export type NodeAttrs = Readonly<Record<string, unknown>>;

const {
  task: TASK,
  taskRef: TASK_REF,
  dataNode: DATA_NODE,
  list: LIST,
  tuple: TUPLE,
  set: SET,
  dict: DICT,
  apply: APPLY,
} = TASK_SPEC;
const METHOD_CALLER = new PyGlobal("dask.utils", "methodcaller");
const GETATTR = new PyGlobal("builtins", "getattr");
const GETITEM = new PyGlobal("operator", "getitem");
const SLICE = new PyGlobal("builtins", "slice");

/** Bytes literals longer than this are hashed separately instead of spelled out in the key text. */
const INLINE_BYTES = 64;

/**
 * What a node without dependencies holds, shared: a map of many plain values makes no arrays or
 * attribute objects per task.
 */
const NO_ATTRS: NodeAttrs = Object.freeze({});
const NO_NODES: readonly Node[] = Object.freeze([]);
const NO_FUTURES: readonly KeyReference[] = Object.freeze([]);

/** A Python callable named by its import path, e.g. `py.fn("numpy.mean")`. */
export class PyFunction {
  /** The pickled reference (module + qualified name). */
  readonly global: PyGlobal;
  /** The name its tasks' keys start with (the last part of the qualified name). */
  readonly keyName: string;

  /** Names a callable; throws {@link GraphBuildFailed} when `path` is not a dotted Python name. */
  constructor(
    /** The path as given: `"module.name"` or `"module:Qual.name"`. */
    readonly path: string,
  ) {
    try {
      this.global = pyGlobal(path);
    } catch (e) {
      throw new GraphBuildFailed(
        `py.fn("${path}"): not a Python import path; write "module.name" or "module:Qual.name"`,
        { cause: e },
      );
    }
    this.keyName = this.global.qualname.split(".").pop()!;
  }

  /** Calls the function: same as `py.call(this, ...args)`. */
  call(...args: unknown[]): Node {
    return py.call(this, ...args);
  }
}

/** Keyword arguments of a call, made with {@link py.kwargs}. */
export class Kwargs {
  /** Wraps keyword arguments; prefer {@link py.kwargs}. */
  constructor(
    /** Keyword → value; values may be nodes and futures. */
    readonly values: Readonly<Record<string, unknown>>,
  ) {}
}

/** A reference to a cluster key inside an argument: becomes `TaskRef(key)`. */
interface EncodedArg {
  /** The value to pickle (TaskRefs and task-spec containers already in place). */
  readonly py: PyValue;
  /** Canonical text the key hash is computed from. */
  readonly text: string;
  /** Whether `py` contains a TaskRef (then containers must be task-spec containers). */
  readonly hasRef: boolean;
}

/**
 * One task in a graph: a Python call whose result lives on the cluster under {@link key}.
 * Nodes are immutable; methods return new nodes.
 */
export class Node {
  /** The Dask key: `<name>-<content hash>`. */
  readonly key: string;
  /** Client-side attributes, inherited from the nodes this one was derived from. */
  readonly attrs: NodeAttrs;
  /** Nodes this one reads (direct dependencies). */
  readonly dependencies: readonly Node[];
  /** @ignore Futures this node reads directly (keys that must stay on the cluster). */
  readonly futures: readonly KeyReference[];
  /** @ignore The `dask._task_spec` object for this key, ready to pickle. */
  readonly taskSpec: PyValue;

  /** @ignore Nodes are made by {@link py} and by the methods of other nodes. */
  constructor(
    key: string,
    attrs: NodeAttrs,
    dependencies: readonly Node[],
    futures: readonly KeyReference[],
    taskSpec: PyValue,
  ) {
    this.key = key;
    this.attrs = attrs;
    this.dependencies = dependencies;
    this.futures = futures;
    this.taskSpec = taskSpec;
  }

  /** Calls a method on this node's value: `obj.name(*args, **kwargs)`. */
  method(name: string, ...args: unknown[]): Node {
    if (!name) throw new GraphBuildFailed("node.method() needs a method name");
    const caller = new PyCall(METHOD_CALLER, [name]);
    return buildCall(name, caller, `m${str(name)}`, [this, ...args]);
  }

  /** Reads an attribute of this node's value: `getattr(obj, name)`. */
  attr(name: string): Node {
    if (!name) throw new GraphBuildFailed("node.attr() needs an attribute name");
    return buildCall("getattr", GETATTR, "getattr", [this, name]);
  }

  /**
   * Indexes this node's value: `obj[key]`. Use {@link py.tuple} and {@link py.slice} for
   * multi-dimensional indexing, e.g. `node.item(py.tuple(0, py.slice(1, 3)))`.
   */
  item(key: unknown): Node {
    return buildCall("getitem", GETITEM, "getitem", [this, key]);
  }

  /**
   * The same task with extra client-side attributes (merged over the current ones). Attributes
   * do not change the key; nodes derived from this one inherit them.
   */
  withAttrs(attrs: Record<string, unknown>): Node {
    return new Node(
      this.key,
      { ...this.attrs, ...attrs },
      this.dependencies,
      this.futures,
      this.taskSpec,
    );
  }
}

/**
 * A lazy Dask collection (an xarray `DataArray`/`Dataset`, a `dask.array`, a `dask.bag`, a
 * `Delayed`, …) that the cluster computes as a whole: made with {@link py.collection} from the
 * node whose value is that lazy object. Computing it (`client.computeCollection`, or
 * `MultiCluster.compute`) sends every chunk task of the collection to the scheduler, so the work
 * spreads over all workers, exactly as Python's `client.compute(collection)` does; the result is
 * the finalised value (e.g. a numpy array or scalar).
 */
export class Collection {
  /** Wraps a node; prefer {@link py.collection}. */
  constructor(
    /** The task whose value is the lazy collection (it runs first, on one worker). */
    readonly node: Node,
  ) {}

  /** Client-side attributes (e.g. `location`), those of {@link node}. */
  get attrs(): NodeAttrs {
    return this.node.attrs;
  }

  /** The same collection with extra client-side attributes (merged over the current ones). */
  withAttrs(attrs: Record<string, unknown>): Collection {
    return new Collection(this.node.withAttrs(attrs));
  }
}

/** The `py` namespace: builds {@link Node} graphs of Python calls. */
export const py = {
  /** A Python callable by import path: `py.fn("numpy.mean")`, `py.fn("pkg.mod:Class.method")`. */
  fn(path: string): PyFunction {
    return new PyFunction(path);
  },

  /**
   * A call `fn(*args, **kwargs)` as a new task. Arguments may be JS values (see `PyValue`),
   * nodes, futures and containers of them; pass keyword arguments with {@link py.kwargs}.
   * `fn` may also be a node whose value is callable.
   */
  call(fn: PyFunction | Node | string, ...args: unknown[]): Node {
    const f = typeof fn === "string" ? new PyFunction(fn) : fn;
    if (f instanceof PyFunction) {
      return buildCall(f.keyName, f.global, globalText(f.global), args);
    }
    if (f instanceof Node) return buildCall("call", null, "", [f, ...args], true);
    throw new GraphBuildFailed(
      `py.call() needs a py.fn(...) or a node as callable, got ${kind(f)}`,
    );
  },

  /**
   * The value of a future as a node, to chain calls on something kept on the cluster without
   * computing it again: `py.ref(kept).method("sum")`. It adds no task (the node is the future's
   * key) and carries the future's attributes (e.g. `location`). The future must stay live while
   * nodes built on it are computed.
   */
  ref(future: KeyReference): Node {
    if (future === null || typeof future !== "object" || !isKeyReference(future)) {
      throw new GraphBuildFailed(`py.ref() needs a future, got ${kind(future)}`);
    }
    const attrs = (future as { attrs?: NodeAttrs }).attrs ?? {};
    // Never sent as a task: the client holds the key, or refuses the graph (a released future).
    return new Node(future.key, attrs, [], [future], new PyCall(TASK_REF, [future.key]));
  },

  /** Keyword arguments for {@link py.call} / `node.method`: `py.kwargs({ axis: 0 })`. */
  kwargs(values: Record<string, unknown>): Kwargs {
    return new Kwargs(values);
  },

  /** A literal value stored as its own key (`DataNode`), e.g. to share it between tasks. */
  value(value: unknown): Node {
    const arg = encodeArg(value, { nodes: [], futures: [] });
    if (arg.hasRef) {
      throw new GraphBuildFailed("py.value() takes literal data only; use py.call() for nodes");
    }
    const key = sha1Hex(arg.text, "data-", 32);
    return new Node(key, NO_ATTRS, NO_NODES, NO_FUTURES, new PyCall(DATA_NODE, [key, arg.py]));
  },

  /**
   * Marks a node whose value is a lazy Dask collection as "compute this collection on the
   * cluster": its chunk tasks then run spread over the workers instead of inside one task.
   *
   * ```ts
   * const flood = py.call("xarray.open_zarr", path).item("flood");
   * const area = py.collection(flood.method("sum").method("__mul__", 0.4));
   * const future = await client.computeCollection(area);
   * ```
   */
  collection(node: Node): Collection {
    if (!(node instanceof Node)) {
      throw new GraphBuildFailed(`py.collection() needs a node, got ${kind(node)}`);
    }
    return new Collection(node);
  },

  /** A Python tuple (JS arrays are lists). Items may be nodes or futures. */
  tuple(...items: unknown[]): PyTuple {
    return new PyTuple(items as PyValue[]);
  },

  /**
   * A Python `slice(start, stop, step)`; `null` for an open end. Bounds may be labels (strings),
   * e.g. for xarray's `sel(time=slice("2022-08-21", "2022-08-25"))`.
   */
  slice(
    start: number | string | null,
    stop?: number | string | null,
    step?: number | null,
  ): PyCall {
    return new PyCall(SLICE, [start, stop ?? null, step ?? null]);
  },
};

/** Builds `Task(key, func, *args)` (or the `apply` form when there are kwargs or `funcIsArg0`). */
function buildCall(
  name: string,
  func: PyValue,
  funcText: string,
  rawArgs: readonly unknown[],
  funcIsArg0 = false,
): Node {
  // The scratch lists are copied out only when they hold something (most calls of a map do not).
  const deps = CALL_REFERENCES;
  deps.nodes.length = 0;
  deps.futures.length = 0;
  let kwargs: Kwargs | undefined;
  const args: EncodedArg[] = new Array(rawArgs.length);
  let count = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i];
    if (a instanceof Kwargs) {
      if (kwargs) throw new GraphBuildFailed("a call takes at most one py.kwargs({...})");
      kwargs = a;
      continue;
    }
    args[count++] = encodeArg(a, deps);
  }
  if (count < args.length) args.length = count;
  const kw = kwargs ? encodeArg(kwargs.values, deps, "kwargs") : undefined;
  let text = funcText + "(";
  for (let i = 0; i < args.length; i++) text += i === 0 ? args[i].text : "," + args[i].text;
  if (kw) text += ";" + kw.text;
  text += ")";
  const key = sha1Hex(text, `${name}-`, 32);
  let spec: PyValue;
  if (!kw && !funcIsArg0) {
    const taskArgs: PyValue[] = new Array(args.length + 2);
    taskArgs[0] = key;
    taskArgs[1] = func;
    for (let i = 0; i < args.length; i++) taskArgs[i + 2] = args[i].py;
    spec = new PyCall(TASK, taskArgs);
  } else {
    // dask.utils.apply(func, args, kwargs): the form that carries kwargs on every dask version.
    const [callee, ...rest] = funcIsArg0 ? args : [{ py: func, text: "", hasRef: false }, ...args];
    const argList = rest.some((a) => a.hasRef)
      ? new PyCall(LIST, [rest.map((a) => a.py)])
      : rest.map((a) => a.py);
    spec = new PyCall(TASK, [key, APPLY, callee.py, argList, kw?.py ?? {}]);
  }
  const futures = deps.futures.length === 0 ? NO_FUTURES : unique([...deps.futures]);
  if (deps.nodes.length === 0) return new Node(key, NO_ATTRS, NO_NODES, futures, spec);
  const nodes = unique([...deps.nodes]);
  const attrs = Object.assign({}, ...nodes.map((d) => d.attrs));
  return new Node(key, attrs, nodes, futures, spec);
}

/** What {@link buildCall} collects the references of one call's arguments into, reused. */
const CALL_REFERENCES: References = { nodes: [], futures: [] };

/** Keys an argument refers to, collected while encoding it. */
interface References {
  readonly nodes: Node[];
  readonly futures: KeyReference[];
}

function unique<T extends { key: string }>(items: T[]): T[] {
  if (items.length < 2) return items;
  const seen = new Set<string>();
  return items.filter((n) => !seen.has(n.key) && seen.add(n.key));
}

/** Converts a JS argument to its pickle model, collecting node dependencies. */
function encodeArg(value: unknown, deps: References, where = "argument", depth = 0): EncodedArg {
  if (depth > 100) throw new GraphBuildFailed(`${where} is nested more than 100 levels deep`);
  switch (typeof value) {
    case "number":
      return {
        py: value,
        text: Number.isInteger(value) ? `i${value}` : `f${value}`,
        hasRef: false,
      };
    case "string":
      return { py: value, text: str(value), hasRef: false };
    case "boolean":
      return { py: value, text: value ? "T" : "F", hasRef: false };
    case "bigint":
      return { py: value, text: `i${value}`, hasRef: false };
    case "object":
      break;
    default:
      throw unsupported(value, where);
  }
  if (value === null) return { py: null, text: "N", hasRef: false };
  if (value instanceof Node) {
    deps.nodes.push(value);
    return { py: new PyCall(TASK_REF, [value.key]), text: `@${str(value.key)}`, hasRef: true };
  }
  if (isKeyReference(value)) {
    deps.futures.push(value);
    return { py: new PyCall(TASK_REF, [value.key]), text: `@${str(value.key)}`, hasRef: true };
  }
  if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    const text = value.length <= INLINE_BYTES
      ? `b${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`
      : `B${value.length}:${digestBytes(value)}`;
    return { py: value, text, hasRef: false };
  }
  if (Array.isArray(value)) return container(value, "[", "]", LIST, (py) => py, deps, where, depth);
  if (value instanceof PyTuple) {
    const wrap = (py: PyValue[]) => new PyTuple(py);
    return container(value.items, "(", ")", TUPLE, wrap, deps, where, depth);
  }
  if (value instanceof PySet) {
    const wrap = (py: PyValue[]) => new PySet(py);
    return container(value.items, "S{", "}", SET, wrap, deps, where, depth);
  }
  if (value instanceof PyFloat) return { py: value, text: `f${value.value}`, hasRef: false };
  if (value instanceof PyGlobal) return { py: value, text: globalText(value), hasRef: false };
  if (value instanceof PyFunction) {
    return { py: value.global, text: globalText(value.global), hasRef: false };
  }
  if (value instanceof PyPickled) {
    return { py: value, text: `P${digestBytes(value.bytes)}`, hasRef: false };
  }
  if (value instanceof PyCall) {
    const fn = encodeArg(value.fn, deps, where, depth + 1);
    const args = value.args.map((a) => encodeArg(a, deps, where, depth + 1));
    if (fn.hasRef || args.some((a) => a.hasRef)) {
      throw new GraphBuildFailed(
        `${where}: a PyCall runs while the graph is unpickled and cannot take nodes or futures; ` +
          `use py.call() to make it a task`,
      );
    }
    return { py: value, text: `c${fn.text}(${args.map((a) => a.text).join(",")})`, hasRef: false };
  }
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => {
      const ek = encodeArg(k, deps, where, depth + 1);
      if (ek.hasRef) throw new GraphBuildFailed(`${where}: dict keys cannot be nodes or futures`);
      return [ek, encodeArg(v, deps, where, depth + 1)] as const;
    });
    const hasRef = entries.some(([, v]) => v.hasRef);
    const map = new Map<PyValue, PyValue>(entries.map(([k, v]) => [k.py, v.py]));
    return {
      py: hasRef ? new PyCall(DICT, [map]) : map,
      text: `M{${entries.map(([k, v]) => `${k.text}:${v.text}`).join(",")}}`,
      hasRef,
    };
  }
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    const out: Record<string, PyValue> = {};
    const parts: string[] = [];
    let hasRef = false;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const ev = encodeArg(v, deps, where, depth + 1);
      out[k] = ev.py;
      parts.push(`${str(k)}:${ev.text}`);
      hasRef ||= ev.hasRef;
    }
    return { py: hasRef ? new PyCall(DICT, [out]) : out, text: `{${parts.join(",")}}`, hasRef };
  }
  throw unsupported(value, where);
}

function container(
  items: readonly unknown[],
  open: string,
  close: string,
  specClass: PyGlobal,
  literal: (items: PyValue[]) => PyValue,
  deps: References,
  where: string,
  depth: number,
): EncodedArg {
  const encoded = items.map((v) => encodeArg(v, deps, where, depth + 1));
  const py = encoded.map((e) => e.py);
  const hasRef = encoded.some((e) => e.hasRef);
  const value = literal(py);
  return {
    // A task-spec container unpacks a single argument of its own type: always pass exactly one.
    py: hasRef ? new PyCall(specClass, [value]) : value,
    text: `${open}${encoded.map((e) => e.text).join(",")}${close}`,
    hasRef,
  };
}

function unsupported(value: unknown, where: string): GraphBuildFailed {
  return new GraphBuildFailed(
    `${where} of type ${kind(value)} has no Python equivalent; pass numbers, strings, booleans, ` +
      `null, bigint, Uint8Array, arrays, plain objects, Map, py.tuple/py.slice, py.fn, nodes or ` +
      `futures (scatter typed arrays with client.scatter())`,
  );
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return (value as object).constructor?.name ?? "object";
}

function str(s: string): string {
  return `s${s.length}:${s}`;
}

function globalText(g: PyGlobal): string {
  return `g${g.module}:${g.qualname}`;
}

function digestBytes(bytes: Uint8Array): string {
  return sha1Hex(bytes);
}
