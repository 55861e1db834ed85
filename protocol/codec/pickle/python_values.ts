/**
 * The model of Python values that dedl-dask writes as pickles and meets again when it reads
 * them: JS primitives, arrays, objects, `Map`s and `Set`s stand for themselves, and a few small
 * classes stand for what JS lacks (tuples, sets, integral floats, module globals, calls and
 * already pickled objects). The pickle writer encodes this model; the reader, the graph builder
 * and the `update-graph` envelopes build and inspect it.
 * @module
 */
import { EncodeFailed } from "../../errors.ts";

/** A Python tuple. Plain JS arrays are lists. */
export class PyTuple {
  /** A tuple of these items. */
  constructor(readonly items: PyValue[]) {}
}

/** A Python set. */
export class PySet {
  /** A set of these items. */
  constructor(readonly items: PyValue[]) {}
}

/** A Python float even when integral: `new PyFloat(2)` pickles as `2.0`, not `2`. */
export class PyFloat {
  /** A float of this value. */
  constructor(readonly value: number) {}
}

/**
 * A module-level Python object by name (a class or function), pickled as STACK_GLOBAL, e.g.
 * `new PyGlobal("dask._expr", "Expr._reconstruct")`. Unpickling imports `module`.
 */
export class PyGlobal {
  /**
   * `qualname` in `module` (dotted for nested names, e.g. `"Expr._reconstruct"`).
   * @throws {EncodeFailed} when `module` or `qualname` is empty.
   */
  constructor(readonly module: string, readonly qualname: string) {
    if (!module || !qualname) {
      throw new EncodeFailed(`PyGlobal needs a module and a name, got "${module}" "${qualname}"`);
    }
  }
}

/** A call `fn(*args)` made by the unpickler (REDUCE) — it runs wherever the pickle is loaded. */
export class PyCall {
  /** The call `fn(*args)`. */
  constructor(readonly fn: PyValue, readonly args: PyValue[]) {}
}

/** An already pickled object embedded as `pickle.loads(bytes)`: it unpickles to that object. */
export class PyPickled {
  /** Embeds these pickle bytes. */
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * An instance made without calling its `__init__`, as Python pickles most class instances:
 * `cls.__new__(cls, *args)` (NEWOBJ), then `state` applied by BUILD (`__setstate__(state)`, or
 * for a plain class its `__dict__` updated from a dict). For objects whose `__init__` has side
 * effects (e.g. reads a file) but whose attributes can be given directly.
 */
export class PyInstance {
  /** `cls.__new__(cls, *args)`, then BUILD with `state` when given. */
  constructor(
    readonly cls: PyGlobal,
    readonly state?: PyValue,
    readonly args: PyValue[] = [],
  ) {}
}

/**
 * The Python values dedl-dask can send: `null` → None, `boolean` → bool, `number` → int when
 * `Number.isInteger` else float, `bigint` → int, `string` → str, `Uint8Array` → bytes, arrays →
 * list, plain objects → dict with str keys (`undefined` values skipped), `Map` → dict with any
 * keys, `Set` → set, plus {@link PyTuple}, {@link PySet}, {@link PyFloat}, {@link PyGlobal},
 * {@link PyCall}, {@link PyPickled}, {@link PyInstance}.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | { [key: string]: PyValue | undefined }
  | Map<PyValue, PyValue>
  | Set<PyValue>
  | PyTuple
  | PySet
  | PyFloat
  | PyGlobal
  | PyCall
  | PyPickled
  | PyInstance;

/**
 * A {@link PyGlobal} from a name: `"module:qual.name"` splits at the colon; a plain dotted path
 * such as `"numpy.mean"` takes everything before the last dot as the module. Use the colon form
 * for nested names: `pyGlobal("dask._expr:Expr._reconstruct")`.
 * @throws {EncodeFailed} when `name` is not a dotted Python name.
 */
export function pyGlobal(name: string): PyGlobal {
  const colon = name.indexOf(":");
  if (colon >= 0) return new PyGlobal(name.slice(0, colon), name.slice(colon + 1));
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) {
    throw new EncodeFailed(
      `"${name}" is not a dotted Python name; write "module.name" or "module:qual.name"`,
    );
  }
  return new PyGlobal(name.slice(0, dot), name.slice(dot + 1));
}
