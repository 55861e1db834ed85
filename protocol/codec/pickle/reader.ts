/**
 * Safe pickle reader: a stack machine for protocols 0–5 that never imports or calls anything.
 * Calls in the pickle become inert nodes; after STOP the result is converted to JS values and a
 * few well-known Python types are revived (see {@link loads}). Used for results, `task-erred`
 * exceptions, `key-in-memory.type`, `__Pickled__` values.
 * @module
 */

import { ByteReader } from "../byte_reader.ts";
import { DecodeFailed } from "../../errors.ts";
import { OP } from "./opcodes.ts";
import { PyObject } from "./python_objects.ts";
import { PyGlobal } from "./python_values.ts";
import { CallNode, reviveCall, reviveEager } from "./revive.ts";
import { setOwn } from "../msgpack.ts";

// Bound once as constants: case labels that read `OP.X` in every case measured ~10% slower.
const {
  ADDITEMS,
  APPEND,
  APPENDS,
  BINBYTES,
  BINBYTES8,
  BINFLOAT,
  BINGET,
  BININT,
  BININT1,
  BININT2,
  BINPERSID,
  BINPUT,
  BINSTRING,
  BINUNICODE,
  BINUNICODE8,
  BUILD,
  BYTEARRAY8,
  DICT,
  DUP,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_SET,
  EMPTY_TUPLE,
  EXT1,
  EXT2,
  EXT4,
  FLOAT,
  FRAME,
  FROZENSET,
  GET,
  GLOBAL,
  INST,
  INT,
  LIST,
  LONG,
  LONG1,
  LONG4,
  LONG_BINGET,
  LONG_BINPUT,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWOBJ,
  NEWOBJ_EX,
  NEWTRUE,
  NEXT_BUFFER,
  NONE,
  OBJ,
  PERSID,
  POP,
  POP_MARK,
  PROTO,
  PUT,
  READONLY_BUFFER,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINSTRING,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  STRING,
  TUPLE,
  TUPLE1,
  TUPLE2,
  TUPLE3,
  UNICODE,
} = OP;

/** Options of {@link loads}. */
export interface LoadsOptions {
  /** Out-of-band buffers for protocol 5's NEXT_BUFFER, in order (the frames after the pickle). */
  buffers?: Uint8Array[];
  /** Nesting limit for containers and objects in the result. Default 256. */
  maxDepth?: number;
  /**
   * Limit on values the pickle may push (each pushed value, reference or memo lookup counts
   * once), bounding memory independently of how the pickle is built. Default 10 000 000.
   */
  maxOutputItems?: number;
}

/** Default of {@link LoadsOptions.maxDepth}. */
export const DEFAULT_PICKLE_MAX_DEPTH = 256;
/** Default of {@link LoadsOptions.maxOutputItems}. */
export const DEFAULT_PICKLE_MAX_ITEMS = 10_000_000;

/** Longest decimal integer accepted by the text opcodes INT/LONG (Python's default limit). */
const MAX_INT_DIGITS = 4300;

/**
 * Unpickles `data` without executing anything.
 *
 * Results: None → `null`; bool; int → `number` (`bigint` beyond ±2⁵³); float → `number`; str;
 * bytes/bytearray → `Uint8Array`; list/tuple → array; dict → plain object when every key is a
 * str (a `"__proto__"` key becomes an own property), else `Map`; set/frozenset → `Set`; a bare
 * class or function → `PyGlobal`; exceptions (plain or tblib-pickled) → {@link PyException};
 * tblib tracebacks → text; numpy scalars → `number`/`bigint`/`boolean`; numpy arrays →
 * `NDArray`; any other object → {@link PyObject}. In-band bytes are copied; out-of-band
 * buffers are used as given (no copy).
 *
 * @throws {DecodeFailed} for malformed or truncated data, unknown or unsupported opcodes
 *   (persistent ids, extension codes), exceeded limits, or missing out-of-band buffers.
 */
export function loads(data: Uint8Array, options: LoadsOptions = {}): unknown {
  const machine = new Unpickler(
    new ByteReader(data, "pickle"),
    options.buffers ?? [],
    options.maxOutputItems ?? DEFAULT_PICKLE_MAX_ITEMS,
  );
  const raw = machine.run();
  return new Finalizer(options.maxDepth ?? DEFAULT_PICKLE_MAX_DEPTH).value(raw, 0);
}

/**
 * Python 2 names that Python 3 still writes in protocol 0–2 pickles (`fix_imports`), mapped
 * back as `_compat_pickle` does — the subset that matters for values and exceptions.
 */
const PY2_NAMES: Record<string, [string, string]> = {
  "__builtin__.long": ["builtins", "int"],
  "__builtin__.unicode": ["builtins", "str"],
  "__builtin__.basestring": ["builtins", "str"],
  "__builtin__.xrange": ["builtins", "range"],
  "__builtin__.unichr": ["builtins", "chr"],
  "__builtin__.reduce": ["functools", "reduce"],
  "__builtin__.intern": ["sys", "intern"],
  "exceptions.StandardError": ["builtins", "Exception"],
  "UserDict.IterableUserDict": ["collections", "UserDict"],
  "itertools.izip": ["builtins", "zip"],
  "itertools.imap": ["builtins", "map"],
  "itertools.ifilter": ["builtins", "filter"],
};
const PY2_MODULES: Record<string, string> = {
  __builtin__: "builtins",
  exceptions: "builtins",
  copy_reg: "copyreg",
  cPickle: "pickle",
  Queue: "queue",
  _abcoll: "collections.abc",
  UserDict: "collections",
  UserList: "collections",
  UserString: "collections",
  StringIO: "io",
  cStringIO: "io",
};

class Unpickler {
  readonly stack: unknown[] = [];
  readonly marks: number[] = [];
  readonly memo = new Map<number, unknown>();
  nextBuffer = 0;
  pushes = 0;
  protocol = 0;

  constructor(
    readonly r: ByteReader,
    readonly buffers: Uint8Array[],
    readonly maxItems: number,
  ) {}

  push(v: unknown): void {
    if (++this.pushes > this.maxItems) {
      this.r.fail(
        `more than ${this.maxItems} values (maxOutputItems); raise the limit if this result ` +
          `is expected to be that large`,
      );
    }
    this.stack.push(v);
  }

  pop(): unknown {
    if (this.stack.length <= this.topMark()) this.r.fail("stack underflow");
    return this.stack.pop();
  }

  top(): unknown {
    if (this.stack.length <= this.topMark()) this.r.fail("stack underflow");
    return this.stack[this.stack.length - 1];
  }

  topMark(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.r.fail("no MARK on the stack");
    return this.stack.splice(mark);
  }

  memoPut(index: number): void {
    if (this.memo.size >= this.maxItems && !this.memo.has(index)) {
      this.r.fail(`memo larger than ${this.maxItems} entries (maxOutputItems)`);
    }
    this.memo.set(index, this.top());
  }

  memoGet(index: number): void {
    if (!this.memo.has(index)) this.r.fail(`memo entry ${index} is missing`);
    this.push(this.memo.get(index));
  }

  global(module: string, name: string): PyGlobal {
    if (!module || !name) this.r.fail(`empty module or name in a global reference`);
    if (this.protocol < 3) {
      const renamed = PY2_NAMES[`${module}.${name}`];
      if (renamed) return new PyGlobal(...renamed);
      module = PY2_MODULES[module] ?? module;
    }
    return new PyGlobal(module, name);
  }

  call(callable: unknown, args: unknown, kwargs?: unknown): unknown {
    if (!Array.isArray(args)) this.r.fail("call arguments are not a tuple");
    if (kwargs === undefined && callable instanceof PyGlobal) {
      const eager = reviveEager(callable, args);
      if (eager !== undefined) return eager.value;
    }
    return new CallNode(callable, args, kwargs);
  }

  run(): unknown {
    const r = this.r;
    for (;;) {
      const op = r.u8();
      switch (op) {
        // --- control
        case PROTO: {
          const v = r.u8();
          if (v > 5) r.fail(`pickle protocol ${v} is newer than 5, the highest this reader knows`);
          this.protocol = v;
          break;
        }
        case FRAME:
          r.need(r.u64le(), "frame");
          break;
        case STOP: {
          if (this.stack.length === 0) r.fail("STOP with an empty stack");
          return this.stack[this.stack.length - 1];
        }
        case MARK:
          this.marks.push(this.stack.length);
          break;
        case POP:
          if (this.stack.length > this.topMark()) this.stack.pop();
          else this.popMark();
          break;
        case POP_MARK:
          this.popMark();
          break;
        case DUP:
          this.push(this.top());
          break;
        // --- memo
        case MEMOIZE:
          this.memoPut(this.memo.size);
          break;
        case BINPUT:
          this.memoPut(r.u8());
          break;
        case LONG_BINPUT:
          this.memoPut(r.u32le());
          break;
        case PUT:
          this.memoPut(this.decimalIndex());
          break;
        case BINGET:
          this.memoGet(r.u8());
          break;
        case LONG_BINGET:
          this.memoGet(r.u32le());
          break;
        case GET:
          this.memoGet(this.decimalIndex());
          break;
        // --- scalars
        case NONE:
          this.push(null);
          break;
        case NEWTRUE:
          this.push(true);
          break;
        case NEWFALSE:
          this.push(false);
          break;
        case BININT:
          this.push(r.i32le());
          break;
        case BININT1:
          this.push(r.u8());
          break;
        case BININT2:
          this.push(r.u16le());
          break;
        case LONG1:
          this.push(decodeLong(r.view(r.u8(), "LONG1")));
          break;
        case LONG4:
          this.push(decodeLong(r.view(r.u32le(), "LONG4")));
          break;
        case INT: {
          const text = r.line();
          if (text === "00") this.push(false);
          else if (text === "01") this.push(true);
          else this.push(this.decimal(text));
          break;
        }
        case LONG:
          this.push(this.decimal(r.line().replace(/L$/, "")));
          break;
        case BINFLOAT:
          this.push(r.f64be());
          break;
        case FLOAT:
          this.push(this.floatText(r.line()));
          break;
        // --- str / bytes
        case SHORT_BINUNICODE:
          this.push(r.utf8(r.u8(), false));
          break;
        case BINUNICODE:
          this.push(r.utf8(r.u32le(), false));
          break;
        case BINUNICODE8:
          this.push(r.utf8(r.u64le(), false));
          break;
        case UNICODE: // raw-unicode-escape
          this.push(rawUnicodeEscape(r.line()));
          break;
        case SHORT_BINBYTES:
          this.push(r.copy(r.u8()));
          break;
        case BINBYTES:
          this.push(r.copy(r.u32le()));
          break;
        case BINBYTES8:
          this.push(r.copy(r.u64le()));
          break;
        case BYTEARRAY8:
          this.push(r.copy(r.u64le()));
          break;
        case SHORT_BINSTRING: // a Python 2 str, read as latin-1 text
          this.push(latin1(r.view(r.u8())));
          break;
        case BINSTRING: {
          const n = r.i32le();
          if (n < 0) r.fail("negative BINSTRING length");
          this.push(latin1(r.view(n)));
          break;
        }
        case STRING:
          this.push(this.quotedString(r.line()));
          break;
        // --- containers
        case EMPTY_TUPLE:
          this.push([]);
          break;
        case TUPLE:
          this.push(this.popMark());
          break;
        case TUPLE1:
          this.push([this.pop()]);
          break;
        case TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push([a, b]);
          break;
        }
        case TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push([a, b, c]);
          break;
        }
        case EMPTY_LIST:
          this.push([]);
          break;
        case LIST:
          this.push(this.popMark());
          break;
        case APPEND: {
          const v = this.pop();
          this.append(this.top(), [v]);
          break;
        }
        case APPENDS: {
          const items = this.popMark();
          this.append(this.top(), items);
          break;
        }
        case EMPTY_DICT:
          this.push(new Map());
          break;
        case DICT: {
          const items = this.popMark();
          const d = new Map();
          this.setItems(d, items);
          this.push(d);
          break;
        }
        case SETITEM: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case EMPTY_SET:
          this.push(new Set());
          break;
        case ADDITEMS: {
          const items = this.popMark();
          const target = this.top();
          if (target instanceof Set) { for (const x of items) target.add(x); }
          else if (target instanceof CallNode) pushAll(target.listItems ??= [], items);
          else r.fail("ADDITEMS on something that is not a set");
          break;
        }
        case FROZENSET:
          this.push(new Set(this.popMark()));
          break;
        // --- objects
        case GLOBAL: {
          const module = r.line(4096);
          this.push(this.global(module, r.line(4096)));
          break;
        }
        case STACK_GLOBAL: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== "string" || typeof name !== "string") {
            return r.fail("STACK_GLOBAL needs two strings");
          }
          this.push(this.global(module, name));
          break;
        }
        case REDUCE: {
          const args = this.pop();
          const fn = this.pop();
          this.push(this.call(fn, args));
          break;
        }
        case NEWOBJ: {
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, args));
          break;
        }
        case NEWOBJ_EX: {
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.push(this.call(cls, args, kwargs));
          break;
        }
        case INST: {
          const module = r.line(4096);
          const cls = this.global(module, r.line(4096));
          this.push(this.call(cls, this.popMark()));
          break;
        }
        case OBJ: {
          const items = this.popMark();
          if (items.length === 0) r.fail("OBJ without a class");
          this.push(this.call(items[0], items.slice(1)));
          break;
        }
        case BUILD: {
          const state = this.pop();
          const target = this.top();
          if (target instanceof CallNode) {
            if (target.hasState && target.state instanceof Map && state instanceof Map) {
              for (const [k, v] of state) target.state.set(k, v);
            } else {
              target.state = state;
              target.hasState = true;
            }
          } else if (target === null || typeof target !== "object") {
            r.fail("BUILD on a value that is not an object");
          }
          break;
        }
        // --- out-of-band buffers
        case NEXT_BUFFER: {
          if (this.nextBuffer >= this.buffers.length) {
            r.fail(
              `pickle uses out-of-band buffer ${this.nextBuffer} but only ${this.buffers.length} ` +
                `buffers were given`,
            );
          }
          this.push(this.buffers[this.nextBuffer++]);
          break;
        }
        case READONLY_BUFFER:
          this.top();
          break;
        case PERSID:
        case BINPERSID:
          r.pos--;
          return r.fail("persistent ids are not supported (distributed never sends them)");
        case EXT1:
        case EXT2:
        case EXT4:
          r.pos--;
          return r.fail("copyreg extension codes are not supported (distributed never sends them)");
        default:
          r.pos--;
          return r.fail(`unknown opcode 0x${op.toString(16).padStart(2, "0")}`);
      }
    }
  }

  append(target: unknown, items: unknown[]): void {
    if (Array.isArray(target)) {
      pushAll(target, items);
    } else if (target instanceof CallNode) {
      pushAll(target.listItems ??= [], items);
    } else {
      this.r.fail("APPEND(S) on something that is not a list");
    }
  }

  setItems(target: unknown, items: unknown[]): void {
    if (items.length % 2 !== 0) this.r.fail("SETITEMS with an odd number of items");
    let d: Map<unknown, unknown>;
    if (target instanceof Map) d = target;
    else if (target instanceof CallNode) d = target.dictItems ??= new Map();
    else return this.r.fail("SETITEM(S) on something that is not a dict");
    for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
  }

  decimalIndex(): number {
    const text = this.r.line(32);
    if (!/^\d+$/.test(text)) this.r.fail(`memo index "${text}" is not a number`);
    return Number(text);
  }

  decimal(text: string): number | bigint {
    const t = text.trim();
    if (!/^[+-]?\d+$/.test(t)) this.r.fail(`"${t.slice(0, 40)}" is not an integer`);
    if (t.length > MAX_INT_DIGITS) {
      this.r.fail(`integer literal longer than ${MAX_INT_DIGITS} digits`);
    }
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : BigInt(t);
  }

  floatText(text: string): number {
    const t = text.trim().toLowerCase();
    if (t === "nan" || t === "+nan" || t === "-nan") return NaN;
    if (t === "inf" || t === "+inf" || t === "infinity") return Infinity;
    if (t === "-inf" || t === "-infinity") return -Infinity;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) {
      this.r.fail(`"${t.slice(0, 40)}" is not a float`);
    }
    return Number(t);
  }

  /** Protocol 0 STRING: a Python 2 `repr` of a byte string, read as latin-1 text. */
  quotedString(text: string): string {
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) {
      this.r.fail("STRING argument is not quoted");
    }
    const body = text.slice(1, -1);
    let out = "";
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = body[++i];
      const simple: Record<string, string> = {
        "\\": "\\",
        "'": "'",
        '"': '"',
        n: "\n",
        r: "\r",
        t: "\t",
        a: "\x07",
        b: "\b",
        f: "\f",
        v: "\v",
      };
      if (e in simple) out += simple[e];
      else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (e !== undefined && /[0-7]/.test(e)) {
        const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
        out += String.fromCharCode(parseInt(m, 8) & 0xff);
        i += m.length - 1;
      } else {
        out += "\\" + (e ?? "");
      }
    }
    return out;
  }
}

/** Appends without spreading (APPENDS may carry more items than a call can take arguments). */
function pushAll(target: unknown[], items: unknown[]): void {
  for (const x of items) target.push(x);
}

/** Little-endian two's complement bytes → number, or bigint outside the safe range. */
function decodeLong(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
    if (b[n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let hex = "";
  for (let i = n - 1; i >= 0; i--) hex += b[i].toString(16).padStart(2, "0");
  let v = BigInt("0x" + hex);
  if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

/** Python's `raw-unicode-escape`: latin-1 with `\uXXXX` / `\UXXXXXXXX` escapes. */
function rawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4, u8) => {
    const cp = parseInt(u4 ?? u8, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
  });
}

/** Converts the machine's raw result to JS values, reviving known calls. */
class Finalizer {
  readonly #done = new Map<object, unknown>();
  readonly #active = new Set<object>();

  constructor(readonly maxDepth: number) {}

  /** Converts one raw value found at nesting `depth`. */
  value(v: unknown, depth: number): unknown {
    if (v === null || typeof v !== "object") return v;
    if (v instanceof Uint8Array || v instanceof PyGlobal) return v;
    const cached = this.#done.get(v);
    if (cached !== undefined || this.#done.has(v)) return cached;
    if (depth >= this.maxDepth) {
      throw new DecodeFailed(
        `invalid pickle data: nested deeper than ${this.maxDepth} levels (maxDepth)`,
      );
    }
    const d = depth + 1;
    if (Array.isArray(v)) {
      const out = new Array(v.length);
      this.#done.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = this.value(v[i], d);
      return out;
    }
    if (v instanceof Map) {
      let allStrings = true;
      for (const k of v.keys()) {
        if (typeof k !== "string") {
          allStrings = false;
          break;
        }
      }
      if (allStrings) {
        const out: Record<string, unknown> = {};
        this.#done.set(v, out);
        for (const [k, x] of v as Map<string, unknown>) setOwn(out, k, this.value(x, d));
        return out;
      }
      const out = new Map<unknown, unknown>();
      this.#done.set(v, out);
      for (const [k, x] of v) out.set(this.value(k, d), this.value(x, d));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set<unknown>();
      this.#done.set(v, out);
      for (const x of v) out.add(this.value(x, d));
      return out;
    }
    if (v instanceof CallNode) return this.#call(v, d);
    return v;
  }

  #call(node: CallNode, depth: number): unknown {
    if (this.#active.has(node)) {
      throw new DecodeFailed(
        `invalid pickle data: ${node.qualifiedName ?? "an object"} refers to itself; ` +
          `such cyclic objects are not supported`,
      );
    }
    this.#active.add(node);
    const revived = reviveCall(node, (x) => this.value(x, depth));
    this.#active.delete(node);
    if (revived !== undefined) {
      this.#done.set(node, revived.value);
      return revived.value;
    }
    // Unknown: describe it. Registered before its parts so cycles through it resolve.
    const c = node.callable;
    const obj = c instanceof PyGlobal
      ? new PyObject(c.module, c.qualname, [])
      : new PyObject("", "<call>", [this.value(c, depth)]);
    this.#done.set(node, obj);
    for (const a of node.args) obj.args.push(this.value(a, depth));
    if (node.kwargs !== undefined) obj.kwargs = this.value(node.kwargs, depth);
    if (node.hasState) obj.state = this.value(node.state, depth);
    if (node.listItems) obj.listItems = node.listItems.map((x) => this.value(x, depth));
    if (node.dictItems) {
      const m = new Map<unknown, unknown>();
      for (const [k, x] of node.dictItems) m.set(this.value(k, depth), this.value(x, depth));
      obj.dictItems = m;
    }
    return obj;
  }
}
