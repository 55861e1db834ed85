/**
 * The pickle reader's knowledge of specific Python globals: which calls become plain JS values
 * (sets, bytes, ordered dicts), numpy scalars and arrays, exceptions and tblib tracebacks.
 * Nothing here imports or runs Python code; it only interprets recorded calls.
 * @module
 */

import { DecodeFailed } from "../../errors.ts";
import { isSupportedDType, NDArray } from "../numpy.ts";
import { PyException, PyObject } from "./python_objects.ts";
import { PyGlobal } from "./python_values.ts";

/**
 * A call recorded instead of made: REDUCE/NEWOBJ/INST/OBJ create one; BUILD, APPENDS and
 * SETITEMS on it are recorded too. After STOP it is revived ({@link reviveCall}) or described
 * as a `PyObject`.
 */
export class CallNode {
  /** BUILD state (valid when `hasState`). */
  state?: unknown;
  /** Whether BUILD was applied (state may legitimately be `null`). */
  hasState = false;
  /** Items added by APPEND(S)/ADDITEMS. */
  listItems?: unknown[];
  /** Items added by SETITEM(S). */
  dictItems?: Map<unknown, unknown>;

  /** Records `callable(*args, **kwargs)`. */
  constructor(readonly callable: unknown, readonly args: unknown[], readonly kwargs?: unknown) {}

  /** `module.qualname` of the callable when it is a global, else `undefined`. */
  get qualifiedName(): string | undefined {
    const c = this.callable;
    return c instanceof PyGlobal ? `${c.module}.${c.qualname}` : undefined;
  }
}

/** The result of a successful revival (wrapped so that `undefined` can mean "not revived"). */
export interface Revived {
  /** The JS value that stands for the Python object. */
  value: unknown;
}

/**
 * Calls that are replaced by a JS value as soon as the unpickler meets them — as Python would
 * make them right then — so that later SETITEMS etc. apply to that value. `undefined` when the
 * call is not one of them or its arguments have an unexpected shape.
 */
export function reviveEager(fn: PyGlobal, args: unknown[]): Revived | undefined {
  switch (`${fn.module}.${fn.qualname}`) {
    case "builtins.set":
    case "builtins.frozenset":
      if (args.length === 0) return { value: new Set() };
      if (args.length === 1 && (Array.isArray(args[0]) || args[0] instanceof Set)) {
        return { value: new Set(args[0] as Iterable<unknown>) };
      }
      return undefined;
    case "builtins.bytes":
    case "builtins.bytearray":
      return bytesFrom(args);
    case "_codecs.encode":
      if (args.length === 2 && typeof args[0] === "string" && typeof args[1] === "string") {
        const b = encodeText(args[0], args[1]);
        return b ? { value: b } : undefined;
      }
      return undefined;
    case "collections.OrderedDict":
      if (args.length === 0) return { value: new Map() };
      if (args.length === 1 && Array.isArray(args[0])) {
        const m = new Map();
        for (const pair of args[0]) {
          if (!Array.isArray(pair) || pair.length !== 2) return undefined;
          m.set(pair[0], pair[1]);
        }
        return { value: m };
      }
      return undefined;
    case "collections.defaultdict":
      // The default factory is dropped: a plain mapping is what a result needs.
      return args.length <= 1 ? { value: new Map() } : undefined;
    case "copyreg._reconstructor": {
      // Protocol 0/1 objects: `_reconstructor(cls, base, state)` then BUILD.
      if (args.length !== 3) return undefined;
      const node = new CallNode(args[0], []);
      if (args[2] !== null) {
        node.state = args[2];
        node.hasState = true;
      }
      return { value: node };
    }
  }
  return undefined;
}

function bytesFrom(args: unknown[]): Revived | undefined {
  if (args.length === 0) return { value: new Uint8Array() };
  const [a, enc] = args;
  if (args.length === 1 && a instanceof Uint8Array) return { value: a.slice() };
  if (
    args.length === 1 && Array.isArray(a) &&
    a.every((x) => Number.isInteger(x) && x >= 0 && x < 256)
  ) {
    return { value: Uint8Array.from(a as number[]) };
  }
  if (args.length >= 2 && typeof a === "string" && typeof enc === "string") {
    const b = encodeText(a, enc);
    return b ? { value: b } : undefined;
  }
  return undefined;
}

function encodeText(s: string, encoding: string): Uint8Array | undefined {
  const e = encoding.toLowerCase().replace(/[-_]/g, "");
  if (e === "latin1" || e === "iso88591" || e === "ascii") {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) return undefined;
      out[i] = c;
    }
    return out;
  }
  if (e === "utf8") return new TextEncoder().encode(s);
  return undefined;
}

/**
 * Converts a recorded call of a known global into its JS value; `undefined` for unknown calls
 * (they become `PyObject`s). `fin` converts raw argument values.
 */
export function reviveCall(node: CallNode, fin: (raw: unknown) => unknown): Revived | undefined {
  const name = node.qualifiedName;
  if (name === undefined) return undefined;
  const args = node.args;
  switch (name) {
    case "numpy._core.multiarray.scalar":
    case "numpy.core.multiarray.scalar":
      return numpyScalar(args);
    case "numpy._core.multiarray._reconstruct":
    case "numpy.core.multiarray._reconstruct":
      return reconstructedArray(node);
    case "numpy._core.numeric._frombuffer":
    case "numpy.core.numeric._frombuffer":
      return bufferArray(args);
    case "tblib.pickling_support.unpickle_traceback":
    case "tblib.Traceback": {
      const text = tracebackText(node);
      return text === undefined ? undefined : { value: text };
    }
    case "tblib.pickling_support.unpickle_exception_with_attrs":
      return tblibException(node, fin, true);
    case "tblib.pickling_support.unpickle_exception":
      return tblibException(node, fin, false);
  }
  const c = node.callable as PyGlobal;
  if (c.module === "builtins" && isBuiltinException(c.qualname)) {
    return {
      value: makeException(
        c,
        fin(args) as unknown[],
        attributesOf(node.hasState ? node.state : null, fin),
      ),
    };
  }
  return undefined;
}

// ---------------------------------------------------------------- numpy

/** The dtype string of a recorded `numpy.dtype(…)` call plus its BUILD state, e.g. `"<M8[ns]"`. */
function dtypeString(v: unknown): string | undefined {
  if (!(v instanceof CallNode) || v.qualifiedName !== "numpy.dtype") return undefined;
  const code = v.args[0];
  if (typeof code !== "string") return undefined;
  const state = Array.isArray(v.state) ? v.state : [];
  const endian = typeof state[1] === "string" ? state[1] : "|";
  let unit = "";
  if (/^[Mm]8$/.test(code)) {
    // state[8] = (metadata, (unit, count, num, events))
    const info = Array.isArray(state[8]) ? state[8][1] : undefined;
    if (!Array.isArray(info) || !(info[0] instanceof Uint8Array) || info[0].length > 8) {
      return undefined;
    }
    const u = String.fromCharCode(...info[0]);
    unit = `[${typeof info[1] === "number" && info[1] !== 1 ? info[1] : ""}${u}]`;
  }
  return `${endian === "=" ? "<" : endian}${code}${unit}`;
}

function numpyScalar(args: unknown[]): Revived | undefined {
  const dtype = dtypeString(args[0]);
  const raw = args[1];
  if (dtype === undefined || !(raw instanceof Uint8Array)) return undefined;
  const m = /^([<>|])([biuf])(\d+)$/.exec(dtype);
  if (!m) return undefined; // complex, datetime, strings, objects: left as PyObject
  const little = m[1] !== ">";
  const kind = m[2];
  const size = Number(m[3]);
  if (raw.length !== size) {
    throw new DecodeFailed(`invalid pickle data: numpy ${dtype} scalar has ${raw.length} bytes`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const key = `${kind}${size}`;
  switch (key) {
    case "b1":
      return { value: raw[0] !== 0 };
    case "i1":
      return { value: view.getInt8(0) };
    case "u1":
      return { value: view.getUint8(0) };
    case "i2":
      return { value: view.getInt16(0, little) };
    case "u2":
      return { value: view.getUint16(0, little) };
    case "i4":
      return { value: view.getInt32(0, little) };
    case "u4":
      return { value: view.getUint32(0, little) };
    case "i8":
      return { value: safeNumber(view.getBigInt64(0, little)) };
    case "u8":
      return { value: safeNumber(view.getBigUint64(0, little)) };
    case "f2":
      return { value: view.getFloat16(0, little) };
    case "f4":
      return { value: view.getFloat32(0, little) };
    case "f8":
      return { value: view.getFloat64(0, little) };
  }
  return undefined;
}

function safeNumber(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function intList(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0)
    ? v as number[]
    : undefined;
}

/** Protocol ≤ 4 arrays: `_reconstruct(ndarray, (0,), b"b")` + BUILD `(1, shape, dtype, fortran, data)`. */
function reconstructedArray(node: CallNode): Revived | undefined {
  const cls = node.args[0];
  if (!(cls instanceof PyGlobal) || cls.module !== "numpy" || cls.qualname !== "ndarray") {
    return undefined;
  }
  const state = node.state;
  if (!Array.isArray(state) || state.length !== 5) return undefined;
  const [, rawShape, rawDtype, fortran, data] = state;
  const shape = intList(rawShape);
  const dtype = dtypeString(rawDtype);
  if (!shape || !dtype || !(data instanceof Uint8Array) || !isSupportedDType(dtype)) {
    return undefined;
  }
  return {
    value: NDArray.fromBytes(data, dtype, shape, { order: fortran === true ? "F" : "C" }),
  };
}

/** Protocol 5 arrays: `_frombuffer(buffer, dtype, shape, order)`. */
function bufferArray(args: unknown[]): Revived | undefined {
  const [data, rawDtype, rawShape, order] = args;
  const shape = intList(rawShape);
  const dtype = dtypeString(rawDtype);
  if (!shape || !dtype || !(data instanceof Uint8Array) || !isSupportedDType(dtype)) {
    return undefined;
  }
  return { value: NDArray.fromBytes(data, dtype, shape, { order: order === "F" ? "F" : "C" }) };
}

// ---------------------------------------------------------------- exceptions and tracebacks

const NON_SUFFIXED_EXCEPTIONS = new Set([
  "BaseException",
  "BaseExceptionGroup",
  "ExceptionGroup",
  "GeneratorExit",
  "KeyboardInterrupt",
  "SystemExit",
  "StopIteration",
  "StopAsyncIteration",
]);

function isBuiltinException(name: string): boolean {
  return NON_SUFFIXED_EXCEPTIONS.has(name) || /^[A-Z]\w*(Error|Exception|Warning)$/.test(name);
}

/**
 * `unpickle_exception_with_attrs(cls, attrs, cause, tb, context, suppress_context, notes, args)`
 * or `unpickle_exception(cls, args, cause, tb, context, suppress_context, notes)`.
 */
function tblibException(
  node: CallNode,
  fin: (raw: unknown) => unknown,
  withAttrs: boolean,
): Revived | undefined {
  const [cls, second, cause, tb, context, , notes, extraArgs] = node.args;
  if (!(cls instanceof PyGlobal)) return undefined;
  const attributes: Record<string, unknown> = {};
  let args: unknown = withAttrs ? extraArgs ?? [] : second;
  if (withAttrs && second instanceof Map) {
    for (const [k, v] of second) {
      if (k === "args") args = v;
      else if (k === "__dict__") Object.assign(attributes, attributesOf(v, fin));
      else if (typeof k === "string") attributes[k] = fin(v);
    }
  }
  if (node.hasState) Object.assign(attributes, attributesOf(node.state, fin));
  if (notes !== null && notes !== undefined) attributes["__notes__"] = fin(notes);
  const finArgs = fin(args);
  const c = fin(cause);
  const x = fin(context);
  return {
    value: makeException(
      cls,
      Array.isArray(finArgs) ? finArgs : [finArgs],
      attributes,
      tracebackText(tb),
      c instanceof PyException ? c : undefined,
      x instanceof PyException ? x : undefined,
    ),
  };
}

function attributesOf(state: unknown, fin: (raw: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // BUILD state is a dict, or (dict, slots) for classes with __slots__.
  const dicts = Array.isArray(state) ? state : [state];
  for (const d of dicts) {
    if (!(d instanceof Map)) continue;
    for (const [k, v] of d) if (typeof k === "string") out[k] = fin(v);
  }
  return out;
}

function makeException(
  cls: PyGlobal,
  args: unknown[],
  attributes: Record<string, unknown>,
  traceback?: string,
  cause?: PyException,
  context?: PyException,
): PyException {
  return new PyException(
    cls.qualname,
    cls.module,
    args,
    exceptionMessage(cls.qualname, args),
    traceback,
    cause,
    context,
    attributes,
  );
}

/** Python's `str(exc)` for `BaseException` subclasses (KeyError shows the key's repr). */
export function exceptionMessage(type: string, args: unknown[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) {
    const a = args[0];
    return typeof a === "string" && type !== "KeyError" ? a : pyRepr(a);
  }
  return pyRepr(args, true);
}

/** Nesting shown by {@link pyRepr} before it abbreviates (also stops on cyclic values). */
const MAX_REPR_DEPTH = 8;
/** Items of one list shown by {@link pyRepr}. */
const MAX_REPR_ITEMS = 100;

/** Approximates Python's `repr` for decoded values (arrays show as lists, or tuples at top). */
function pyRepr(v: unknown, tuple = false, depth = 0): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    return String(v);
  }
  if (typeof v === "bigint") return String(v);
  if (typeof v === "string") return quote(v);
  if (v instanceof Uint8Array) return "b" + quote(String.fromCharCode(...v.subarray(0, 1000)));
  if (typeof v !== "object") return String(v);
  if (depth >= MAX_REPR_DEPTH) return "...";
  const r = (x: unknown) => pyRepr(x, false, depth + 1);
  if (Array.isArray(v)) {
    const inner = v.slice(0, MAX_REPR_ITEMS).map(r).join(", ") +
      (v.length > MAX_REPR_ITEMS ? ", ..." : "");
    return tuple ? `(${inner}${v.length === 1 ? "," : ""})` : `[${inner}]`;
  }
  if (v instanceof PyObject) return objectRepr(v);
  if (v instanceof PyException) return `${v.type}(${v.args.map(r).join(", ")})`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${r(k)}: ${r(x)}`).join(", ")}}`;
  if (v instanceof Set) return `{${[...v].map(r).join(", ")}}`;
  if (Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.entries(v).map(([k, x]) => `${quote(k)}: ${r(x)}`).join(", ")}}`;
  }
  return String(v);
}

/**
 * An object the reader does not revive: its class, and its address or name when its state has
 * one (e.g. a scheduler's `WorkerState` in `KilledWorker`), as Dask's own reprs show them.
 */
function objectRepr(o: PyObject): string {
  const label = objectLabel(o);
  return label ? `<${o.name} ${quote(label)}>` : `<${o.module}.${o.name} object>`;
}

/** The `address`, `name` or `key` an unrevived object's state holds, if any. */
export function objectLabel(o: PyObject): string | undefined {
  const state = o.state instanceof Map ? Object.fromEntries(o.state) : o.state;
  const slots = Array.isArray(state) && state.length === 2 ? state[1] : state; // (dict, slots)
  const fields = typeof slots === "object" && slots !== null
    ? slots as Record<string, unknown>
    : {};
  const label = ["address", "name", "key"].map((f) => fields[f]).find((v) => typeof v === "string");
  return label as string | undefined;
}

function quote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\" || ch === q) out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + q;
}

/** Longest traceback chain followed; longer (or cyclic) chains are cut. */
const MAX_TRACEBACK_FRAMES = 100_000;

function stateMap(v: unknown): Map<unknown, unknown> | undefined {
  return v instanceof CallNode && v.state instanceof Map ? v.state : undefined;
}

/**
 * Formats a tblib traceback (`unpickle_traceback(frame, lineno, next)` or a `tblib.Traceback`
 * object) like `traceback.format_tb` without source lines. Walks the chain iteratively, so deep
 * tracebacks (RecursionError) cost no nesting depth.
 */
function tracebackText(tb: unknown): string | undefined {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let cur = tb;
  while (cur instanceof CallNode && !seen.has(cur) && lines.length < MAX_TRACEBACK_FRAMES) {
    seen.add(cur);
    let frame: unknown, lineno: unknown, next: unknown;
    if (cur.qualifiedName === "tblib.pickling_support.unpickle_traceback") {
      [frame, lineno, next] = cur.args;
    } else if (cur.qualifiedName === "tblib.Traceback") {
      const st = stateMap(cur);
      if (!st) break;
      frame = st.get("tb_frame");
      lineno = st.get("tb_lineno");
      next = st.get("tb_next");
    } else {
      break;
    }
    const code = stateMap(stateMap(frame)?.get("f_code"));
    const file = code?.get("co_filename");
    const fn = code?.get("co_name");
    lines.push(
      `  File "${typeof file === "string" ? file : "?"}", line ${
        typeof lineno === "number" ? lineno : "?"
      }, in ${typeof fn === "string" ? fn : "?"}`,
    );
    cur = next;
  }
  return lines.length ? lines.join("\n") : undefined;
}
