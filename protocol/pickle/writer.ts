/**
 * Pickle writer: a small model of Python values ({@link PyValue}) and {@link dumps}, which
 * encodes it as a protocol 4/5 pickle that Python's `pickle.loads` turns back into those values.
 * Output is deterministic, memo-free and frame-free (see dask-protocol.md §10), e.g. the
 * `LLGExpr` graph envelope of §9.4.
 *
 * @example
 * ```ts
 * const add = new PyGlobal("operator", "add");
 * const task = new PyCall(new PyGlobal("dask._task_spec", "Task"), ["x", add, 1, 2]);
 * const bytes = dumps({ x: task });
 * ```
 * @module
 */

import { ByteWriter, utf8Length } from "../byte_writer.ts";
import { EncodeError } from "../errors.ts";

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
  /** `qualname` in `module` (dotted for nested names, e.g. `"Expr._reconstruct"`). */
  constructor(readonly module: string, readonly qualname: string) {
    if (!module || !qualname) {
      throw new EncodeError(`PyGlobal needs a module and a name, got "${module}" "${qualname}"`);
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
 * The Python values {@link dumps} can write: `null` → None, `boolean` → bool, `number` → int when
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
 */
export function pyGlobal(name: string): PyGlobal {
  const colon = name.indexOf(":");
  if (colon >= 0) return new PyGlobal(name.slice(0, colon), name.slice(colon + 1));
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) {
    throw new EncodeError(
      `"${name}" is not a dotted Python name; write "module.name" or "module:qual.name"`,
    );
  }
  return new PyGlobal(name.slice(0, dot), name.slice(dot + 1));
}

/** Options of {@link dumps}. */
export interface DumpsOptions {
  /** Pickle protocol written in the PROTO opcode: 4 (default, readable since Python 3.4) or 5. */
  protocol?: 4 | 5;
  /** Nesting limit; deeper or cyclic values throw {@link EncodeError}. Default 1000. */
  maxDepth?: number;
}

/** Default nesting limit of {@link dumps}. */
export const DEFAULT_DUMPS_MAX_DEPTH = 1000;

/**
 * Pickles a {@link PyValue}.
 * @throws {EncodeError} for values outside the model (functions, symbols, class instances, …),
 *   nesting deeper than `maxDepth`, or cycles.
 */
export function dumps(value: PyValue, options: DumpsOptions = {}): Uint8Array {
  const protocol = options.protocol ?? 4;
  if (protocol !== 4 && protocol !== 5) {
    throw new EncodeError(`pickle protocol ${protocol} is not supported; use 4 or 5`);
  }
  const w = new ByteWriter(256);
  w.u8x2(PROTO, protocol);
  new PickleEncoder(w, options.maxDepth ?? DEFAULT_DUMPS_MAX_DEPTH).value(value, 0);
  w.u8(STOP);
  return w.finish();
}

const MARK = 0x28;
const STOP = 0x2e;
const BINFLOAT = 0x47;
const BININT = 0x4a;
const BININT1 = 0x4b;
const BININT2 = 0x4d;
const NONE = 0x4e;
const REDUCE = 0x52;
const BUILD = 0x62;
const NEWOBJ = 0x81;
const BINUNICODE = 0x58;
const EMPTY_LIST = 0x5d;
const APPENDS = 0x65;
const TUPLE = 0x74;
const EMPTY_TUPLE = 0x29;
const SETITEMS = 0x75;
const EMPTY_DICT = 0x7d;
const PROTO = 0x80;
const NEWTRUE = 0x88;
const NEWFALSE = 0x89;
const LONG1 = 0x8a;
const LONG4 = 0x8b;
const SHORT_BINUNICODE = 0x8c;
const BINUNICODE8 = 0x8d;
const BINBYTES8 = 0x8e;
const EMPTY_SET = 0x8f;
const ADDITEMS = 0x90;
const STACK_GLOBAL = 0x93;
const BINBYTES = 0x42;
const SHORT_BINBYTES = 0x43;

/** Python's pickler batches APPENDS/SETITEMS/ADDITEMS by 1000 items; so do we. */
const BATCH = 1000;

const PICKLE_LOADS = new PyGlobal("pickle", "loads");

class PickleEncoder {
  constructor(readonly w: ByteWriter, readonly maxDepth: number) {}

  value(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case "string":
        return this.str(v);
      case "number":
        return Number.isInteger(v) ? this.int(v) : this.float(v);
      case "boolean":
        return w.u8(v ? NEWTRUE : NEWFALSE);
      case "bigint":
        return this.bigint(v);
      case "object":
        break;
      default:
        throw new EncodeError(`cannot pickle a JS ${typeof v}; see PyValue for what can be sent`);
    }
    if (v === null) return w.u8(NONE);
    if (depth >= this.maxDepth) {
      throw new EncodeError(
        `value nested deeper than ${this.maxDepth} levels (or cyclic); cannot pickle it`,
      );
    }
    const d = depth + 1;
    if (Array.isArray(v)) {
      w.u8(EMPTY_LIST);
      this.batched(v, APPENDS, d);
    } else if (v instanceof Uint8Array) {
      this.bytes(v);
    } else if (v instanceof PyCall) {
      this.value(v.fn, d);
      this.tuple(v.args, d);
      w.u8(REDUCE);
    } else if (v instanceof PyInstance) {
      this.value(v.cls, d);
      this.tuple(v.args, d);
      w.u8(NEWOBJ);
      if (v.state !== undefined) {
        this.value(v.state, d);
        w.u8(BUILD);
      }
    } else if (v instanceof PyGlobal) {
      this.str(v.module);
      this.str(v.qualname);
      w.u8(STACK_GLOBAL);
    } else if (v instanceof PyTuple) {
      this.tuple(v.items, d);
    } else if (v instanceof PyFloat) {
      this.float(v.value);
    } else if (v instanceof Map) {
      w.u8(EMPTY_DICT);
      this.dictItems(v.entries(), v.size, d);
    } else if (v instanceof PySet) {
      w.u8(EMPTY_SET);
      this.batched(v.items, ADDITEMS, d);
    } else if (v instanceof Set) {
      w.u8(EMPTY_SET);
      this.batched([...v], ADDITEMS, d);
    } else if (v instanceof PyPickled) {
      this.value(PICKLE_LOADS, d);
      w.u8(MARK);
      this.bytes(v.bytes);
      w.u8x2(TUPLE, REDUCE);
    } else if (isPlainObject(v)) {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      w.u8(EMPTY_DICT);
      this.dictItems(entries.values(), entries.length, d);
    } else {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new EncodeError(
        `cannot pickle a ${name}; wrap Python values in PyTuple/PySet/PyFloat/PyGlobal/PyCall/PyInstance`,
      );
    }
  }

  tuple(items: readonly unknown[], depth: number): void {
    if (items.length === 0) return this.w.u8(EMPTY_TUPLE);
    this.w.u8(MARK);
    for (const x of items) this.value(x, depth);
    this.w.u8(TUPLE);
  }

  /** Items after an EMPTY_LIST/EMPTY_SET, as MARK … APPENDS/ADDITEMS batches. */
  batched(items: readonly unknown[], op: number, depth: number): void {
    for (let start = 0; start < items.length; start += BATCH) {
      this.w.u8(MARK);
      const end = Math.min(items.length, start + BATCH);
      for (let i = start; i < end; i++) this.value(items[i], depth);
      this.w.u8(op);
    }
  }

  dictItems(entries: Iterator<[unknown, unknown]>, size: number, depth: number): void {
    for (let done = 0; done < size;) {
      this.w.u8(MARK);
      const end = Math.min(size, done + BATCH);
      for (; done < end; done++) {
        const [k, x] = entries.next().value!;
        this.value(k, depth);
        this.value(x, depth);
      }
      this.w.u8(SETITEMS);
    }
  }

  str(s: string): void {
    const w = this.w;
    const n = utf8Length(s);
    if (n < 0x100) {
      w.u8x2(SHORT_BINUNICODE, n);
    } else if (n < 0x1_0000_0000) {
      w.u8(BINUNICODE);
      w.u32le(n);
    } else {
      w.u8(BINUNICODE8);
      w.u64le(n);
    }
    w.utf8(s, n);
  }

  bytes(b: Uint8Array): void {
    const w = this.w;
    const n = b.length;
    if (n < 0x100) {
      w.u8x2(SHORT_BINBYTES, n);
    } else if (n < 0x1_0000_0000) {
      w.u8(BINBYTES);
      w.u32le(n);
    } else {
      w.u8(BINBYTES8);
      w.u64le(n);
    }
    w.bytes(b);
  }

  int(v: number): void {
    const w = this.w;
    if (v >= 0 && v < 0x100) return w.u8x2(BININT1, v);
    if (v >= 0 && v < 0x10000) {
      w.u8(BININT2);
      return w.u16le(v);
    }
    if (v >= -0x8000_0000 && v <= 0x7fff_ffff) {
      w.u8(BININT);
      return w.i32le(v);
    }
    this.long(BigInt(v));
  }

  bigint(v: bigint): void {
    if (v >= -0x8000_0000n && v <= 0x7fff_ffffn) return this.int(Number(v));
    this.long(v);
  }

  /** LONG1/LONG4: little-endian two's complement, shortest form (as Python's `encode_long`). */
  long(v: bigint): void {
    const bytes: number[] = [];
    let x = v;
    // Emit bytes until the remaining value is 0 or -1 and the sign bit of the last byte matches.
    for (;;) {
      const b = Number(x & 0xffn);
      bytes.push(b);
      x >>= 8n;
      if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
    }
    const w = this.w;
    if (bytes.length < 0x100) {
      w.u8x2(LONG1, bytes.length);
    } else {
      w.u8(LONG4);
      w.u32le(bytes.length);
    }
    w.bytes(Uint8Array.from(bytes));
  }

  float(v: number): void {
    this.w.u8(BINFLOAT);
    this.w.f64be(v);
  }
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
