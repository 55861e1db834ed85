/**
 * Pickle writer: {@link dumps} encodes the model of Python values ({@link PyValue}) as a
 * protocol 4/5 pickle that Python's `pickle.loads` turns back into those values. Output is
 * deterministic and frame-free, and memoizes only globals that occur more than once (see
 * `docs/wire-protocol.md`, "Pickle subset"), e.g. the `LLGExpr` graph envelope (same document,
 * "Graphs by release").
 *
 * @example
 * ```ts
 * const add = new PyGlobal("operator", "add");
 * const task = new PyCall(new PyGlobal("dask._task_spec", "Task"), ["x", add, 1, 2]);
 * const bytes = dumps({ x: task });
 * ```
 * @module
 */

import { isPlainObject } from "../../../base/mod.ts";
import { EncodeFailed } from "../../errors.ts";
import { ByteWriter, utf8Length } from "../byte_writer.ts";
import { OP } from "./opcodes.ts";
import {
  PyCall,
  PyFloat,
  PyGlobal,
  PyInstance,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "./python_values.ts";

/** Options of {@link dumps}. */
export interface DumpsOptions {
  /** Pickle protocol written in the PROTO opcode: 4 (default, readable since Python 3.4) or 5. */
  protocol?: 4 | 5;
  /** Nesting limit; deeper or cyclic values throw {@link EncodeFailed}. Default 1000. */
  maxDepth?: number;
}

/** Default nesting limit of {@link dumps}. */
export const DEFAULT_DUMPS_MAX_DEPTH = 1000;

/**
 * Pickles a {@link PyValue}.
 * @throws {EncodeFailed} for values outside the model (functions, symbols, class instances, …),
 *   nesting deeper than `maxDepth`, or cycles.
 */
export function dumps(value: PyValue, options: DumpsOptions = {}): Uint8Array {
  const protocol = options.protocol ?? 4;
  if (protocol !== 4 && protocol !== 5) {
    throw new EncodeFailed(`pickle protocol ${protocol} is not supported; use 4 or 5`);
  }
  const w = new ByteWriter(256);
  w.u8x2(OP.PROTO, protocol);
  const maxDepth = options.maxDepth ?? DEFAULT_DUMPS_MAX_DEPTH;
  new PickleEncoder(w, maxDepth, repeatedGlobals(value, maxDepth)).value(value, 0);
  w.u8(OP.STOP);
  return w.finish();
}

/** Python's pickler batches APPENDS/SETITEMS/ADDITEMS by 1000 items; so do we. */
const BATCH = 1000;

const PICKLE_LOADS = new PyGlobal("pickle", "loads");

/** Module → names of the globals that occur more than once in a value. */
type GlobalNames = Map<string, Set<string>>;

/**
 * The globals `value` names more than once. Only those are memoized: a graph of many tasks
 * calling one function then names it once (its unpickling imports it once, not once per task),
 * while a value naming each global once pickles exactly as without a memo.
 */
function repeatedGlobals(value: unknown, maxDepth: number): GlobalNames {
  const seen: GlobalNames = new Map();
  const repeated: GlobalNames = new Map();
  const note = (g: PyGlobal) => {
    let names = seen.get(g.module);
    if (!names) seen.set(g.module, names = new Set());
    if (!names.has(g.qualname)) return void names.add(g.qualname);
    let again = repeated.get(g.module);
    if (!again) repeated.set(g.module, again = new Set());
    again.add(g.qualname);
  };
  // Past maxDepth the encoder itself refuses the value; the walk just stops there.
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== "object" || depth > maxDepth) return;
    const d = depth + 1;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, d);
    } else if (v instanceof Uint8Array) {
      return;
    } else if (v instanceof PyGlobal) {
      note(v);
    } else if (v instanceof PyCall) {
      walk(v.fn, d);
      for (const x of v.args) walk(x, d);
    } else if (v instanceof PyTuple || v instanceof PySet) {
      for (const x of v.items) walk(x, d);
    } else if (v instanceof PyInstance) {
      note(v.cls);
      for (const x of v.args) walk(x, d);
      walk(v.state, d);
    } else if (v instanceof PyPickled) {
      note(PICKLE_LOADS);
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        walk(k, d);
        walk(x, d);
      }
    } else if (v instanceof Set) {
      for (const x of v) walk(x, d);
    } else if (isPlainObject(v)) {
      for (const k in v) walk(v[k], d);
    }
  };
  walk(value, 0);
  return repeated;
}

class PickleEncoder {
  /** Memo index of each repeated global already written, by module and name. */
  readonly #memo = new Map<string, Map<string, number>>();
  #memoSize = 0;

  constructor(
    readonly w: ByteWriter,
    readonly maxDepth: number,
    readonly repeated: GlobalNames,
  ) {}

  value(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case "string":
        return this.str(v);
      case "number":
        return Number.isInteger(v) ? this.int(v) : this.float(v);
      case "boolean":
        return w.u8(v ? OP.NEWTRUE : OP.NEWFALSE);
      case "bigint":
        return this.bigint(v);
      case "object":
        break;
      default:
        throw new EncodeFailed(`cannot pickle a JS ${typeof v}; see PyValue for what can be sent`);
    }
    if (v === null) return w.u8(OP.NONE);
    if (depth >= this.maxDepth) {
      throw new EncodeFailed(
        `value nested deeper than ${this.maxDepth} levels (or cyclic); cannot pickle it`,
      );
    }
    const d = depth + 1;
    if (Array.isArray(v)) {
      w.u8(OP.EMPTY_LIST);
      this.batched(v, OP.APPENDS, d);
    } else if (v instanceof Uint8Array) {
      this.bytes(v);
    } else if (v instanceof PyCall) {
      this.value(v.fn, d);
      this.tuple(v.args, d);
      w.u8(OP.REDUCE);
    } else if (v instanceof PyInstance) {
      this.value(v.cls, d);
      this.tuple(v.args, d);
      w.u8(OP.NEWOBJ);
      if (v.state !== undefined) {
        this.value(v.state, d);
        w.u8(OP.BUILD);
      }
    } else if (v instanceof PyGlobal) {
      this.global(v);
    } else if (v instanceof PyTuple) {
      this.tuple(v.items, d);
    } else if (v instanceof PyFloat) {
      this.float(v.value);
    } else if (v instanceof Map) {
      w.u8(OP.EMPTY_DICT);
      this.mapItems(v, d);
    } else if (v instanceof PySet) {
      w.u8(OP.EMPTY_SET);
      this.batched(v.items, OP.ADDITEMS, d);
    } else if (v instanceof Set) {
      w.u8(OP.EMPTY_SET);
      this.batched([...v], OP.ADDITEMS, d);
    } else if (v instanceof PyPickled) {
      this.value(PICKLE_LOADS, d);
      w.u8(OP.MARK);
      this.bytes(v.bytes);
      w.u8x2(OP.TUPLE, OP.REDUCE);
    } else if (isPlainObject(v)) {
      w.u8(OP.EMPTY_DICT);
      this.objectItems(v, d);
    } else {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new EncodeFailed(
        `cannot pickle a ${name}; wrap Python values in PyTuple/PySet/PyFloat/PyGlobal/PyCall/PyInstance`,
      );
    }
  }

  /** STACK_GLOBAL; a repeated global is memoized the first time and fetched from the memo after. */
  global(g: PyGlobal): void {
    const w = this.w;
    const memo = this.#memo.get(g.module)?.get(g.qualname);
    if (memo !== undefined) {
      if (memo < 0x100) return w.u8x2(OP.BINGET, memo);
      w.u8(OP.LONG_BINGET);
      return w.u32le(memo);
    }
    this.str(g.module);
    this.str(g.qualname);
    w.u8(OP.STACK_GLOBAL);
    if (!this.repeated.get(g.module)?.has(g.qualname)) return;
    w.u8(OP.MEMOIZE);
    let names = this.#memo.get(g.module);
    if (!names) this.#memo.set(g.module, names = new Map());
    names.set(g.qualname, this.#memoSize++);
  }

  tuple(items: readonly unknown[], depth: number): void {
    if (items.length === 0) return this.w.u8(OP.EMPTY_TUPLE);
    this.w.u8(OP.MARK);
    for (const x of items) this.value(x, depth);
    this.w.u8(OP.TUPLE);
  }

  /** Items after an EMPTY_LIST/EMPTY_SET, as MARK … APPENDS/ADDITEMS batches. */
  batched(items: readonly unknown[], op: number, depth: number): void {
    for (let start = 0; start < items.length; start += BATCH) {
      this.w.u8(OP.MARK);
      const end = Math.min(items.length, start + BATCH);
      for (let i = start; i < end; i++) this.value(items[i], depth);
      this.w.u8(op);
    }
  }

  /** A Map's items after EMPTY_DICT, as MARK … SETITEMS batches (no entry array per item). */
  mapItems(map: ReadonlyMap<unknown, unknown>, depth: number): void {
    let inBatch = 0;
    map.forEach((x, k) => {
      if (inBatch === 0) this.w.u8(OP.MARK);
      this.value(k, depth);
      this.value(x, depth);
      if (++inBatch === BATCH) {
        this.w.u8(OP.SETITEMS);
        inBatch = 0;
      }
    });
    if (inBatch > 0) this.w.u8(OP.SETITEMS);
  }

  /** A plain object's items (`undefined` values skipped), as {@link mapItems} writes them. */
  objectItems(o: Record<string, unknown>, depth: number): void {
    let inBatch = 0;
    for (const k in o) {
      const x = o[k];
      if (x === undefined) continue;
      if (inBatch === 0) this.w.u8(OP.MARK);
      this.str(k);
      this.value(x, depth);
      if (++inBatch === BATCH) {
        this.w.u8(OP.SETITEMS);
        inBatch = 0;
      }
    }
    if (inBatch > 0) this.w.u8(OP.SETITEMS);
  }

  str(s: string): void {
    const w = this.w;
    const n = utf8Length(s);
    if (n < 0x100) {
      w.u8x2(OP.SHORT_BINUNICODE, n);
    } else if (n < 0x1_0000_0000) {
      w.u8(OP.BINUNICODE);
      w.u32le(n);
    } else {
      w.u8(OP.BINUNICODE8);
      w.u64le(n);
    }
    w.utf8(s, n);
  }

  bytes(b: Uint8Array): void {
    const w = this.w;
    const n = b.length;
    if (n < 0x100) {
      w.u8x2(OP.SHORT_BINBYTES, n);
    } else if (n < 0x1_0000_0000) {
      w.u8(OP.BINBYTES);
      w.u32le(n);
    } else {
      w.u8(OP.BINBYTES8);
      w.u64le(n);
    }
    w.bytes(b);
  }

  int(v: number): void {
    const w = this.w;
    if (v >= 0 && v < 0x100) return w.u8x2(OP.BININT1, v);
    if (v >= 0 && v < 0x10000) {
      w.u8(OP.BININT2);
      return w.u16le(v);
    }
    if (v >= -0x8000_0000 && v <= 0x7fff_ffff) {
      w.u8(OP.BININT);
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
      w.u8x2(OP.LONG1, bytes.length);
    } else {
      w.u8(OP.LONG4);
      w.u32le(bytes.length);
    }
    w.bytes(Uint8Array.from(bytes));
  }

  float(v: number): void {
    this.w.u8(OP.BINFLOAT);
    this.w.f64be(v);
  }
}
