/**
 * NumPy arrays without NumPy: {@link NDArray} (dtype string, shape, byte strides, typed data)
 * and distributed's `dask` serializer for `numpy.ndarray` both ways ({@link serializeNumpy},
 * {@link deserializeNumpy}); see `docs/wire-protocol.md`, "Serializer families".
 *
 * @example
 * ```ts
 * const a = NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * a.get(1, 2); // 6
 * a.toNested(); // [[1, 2, 3], [4, 5, 6]]
 * ```
 * @module
 */

import { JUPYTER_DISPLAY, type MimeBundle } from "../../base/mod.ts";
import { ndarrayBundle } from "./ndarray_display.ts";
import { DecodeFailed, InvalidArray } from "../errors.ts";
import { dumps } from "./pickle/writer.ts";
import { PyGlobal } from "./pickle/python_values.ts";
import { showValue } from "./show_value.ts";

/** Typed array kinds an {@link NDArray} stores its elements in. */
export type NDArrayData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float16Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * One element as {@link NDArray.get} returns it: `number` (ints up to 32 bits, floats), `bigint`
 * (int64/uint64, datetime64/timedelta64 counts), `boolean`, `[re, im]` (complex), `string`
 * (`U`), `Uint8Array` (`S`, trailing NULs removed).
 */
export type NDArrayScalar = number | bigint | boolean | string | Uint8Array | [number, number];

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NDArrayData;
  new (length: number): NDArrayData;
  readonly BYTES_PER_ELEMENT: number;
};

/** A parsed numpy dtype string such as `"<f8"`, `"|b1"`, `"<U5"` or `"<M8[ns]"`. */
interface DType {
  /** Byte order: `<` little, `>` big, `|` not applicable. */
  order: "<" | ">" | "|";
  /** numpy kind letter. */
  kind: string;
  /** Bytes per element. */
  itemsize: number;
  /** Typed array holding the elements. */
  ctor: TypedArrayCtor;
  /** Typed-array units per element (2 for complex, n for `S`/`U`). */
  units: number;
  /** The dtype string with native (`<`) byte order. */
  little: string;
}

const DTYPE_RE = /^([<>|=])([biufcMmSU])(\d+)(\[\d*[a-zA-Z]+\])?$/;

/** Parses a numpy dtype string; `undefined` when unsupported. */
function parseDType(s: string): DType | undefined {
  const m = DTYPE_RE.exec(s);
  if (!m) return undefined;
  const [, rawOrder, kind, sizeText, unit = ""] = m;
  const n = Number(sizeText);
  const order = rawOrder === "=" ? "<" : rawOrder as "<" | ">" | "|";
  let ctor: TypedArrayCtor | undefined;
  let itemsize = n;
  let units = 1;
  switch (kind) {
    case "b":
      ctor = n === 1 ? Uint8Array : undefined;
      break;
    case "i":
      ctor = ({ 1: Int8Array, 2: Int16Array, 4: Int32Array, 8: BigInt64Array } as const)[n as 1];
      break;
    case "u":
      ctor =
        ({ 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array } as const)[n as 1];
      break;
    case "f":
      ctor = ({ 2: Float16Array, 4: Float32Array, 8: Float64Array } as const)[n as 2];
      break;
    case "c":
      ctor = ({ 8: Float32Array, 16: Float64Array } as const)[n as 8];
      units = 2;
      break;
    case "M":
    case "m":
      ctor = n === 8 && unit ? BigInt64Array : undefined;
      break;
    case "S":
      ctor = Uint8Array;
      units = n;
      break;
    case "U":
      ctor = Uint32Array;
      itemsize = 4 * n;
      units = n;
      break;
  }
  if (!ctor || (unit && kind !== "M" && kind !== "m")) return undefined;
  if ((kind === "S" || kind === "U") && n === 0) return undefined;
  const single = ctor.BYTES_PER_ELEMENT === 1;
  return {
    order: single ? "|" : order,
    kind,
    itemsize,
    ctor: ctor as TypedArrayCtor,
    units,
    little: `${single ? "|" : "<"}${kind}${sizeText}${unit}`,
  };
}

/** Whether {@link NDArray} can hold a numpy dtype string such as `"<f8"` (see {@link NDArrayScalar}). */
export function isSupportedDType(dtype: string): boolean {
  return parseDType(dtype) !== undefined;
}

function unsupportedDType(s: string): string {
  return `numpy dtype ${JSON.stringify(s)} is not supported (supported: bool, ints, uints, ` +
    `float16/32/64, complex64/128, datetime64/timedelta64, S, U); convert the array in the ` +
    `graph, e.g. with .astype("f8")`;
}

/** A dense n-dimensional array in numpy's memory model. Element `(0, …, 0)` is at byte 0 of `data`. */
export class NDArray {
  /** numpy dtype string with little-endian or `|` byte order, e.g. `"<f8"`, `"|b1"`, `"<M8[ns]"`. */
  readonly dtype: string;
  /** Memory order: `"F"` when Fortran-contiguous (and not C-contiguous), else `"C"`. */
  readonly order: "C" | "F";
  readonly #dt: DType;

  /**
   * Wraps existing data without copying. `strides` are in bytes and must be non-negative
   * multiples of the element's typed-array unit (0 for broadcast axes) that stay inside `data`.
   * @throws {InvalidArray} when dtype, data type, shape or strides do not fit together.
   */
  constructor(
    dtype: string,
    /** Length of each axis (`[]` for a 0-d array). */
    readonly shape: number[],
    /** Byte step per axis (numpy's `strides`). */
    readonly strides: number[],
    /** The elements (complex: interleaved re/im; `U`: UCS-4 code points; `S`: bytes). */
    readonly data: NDArrayData,
  ) {
    const dt = parseDType(dtype);
    if (!dt) throw new InvalidArray(unsupportedDType(dtype));
    if (dt.order === ">") {
      throw new InvalidArray(`dtype ${dtype} is big-endian; use NDArray.fromBytes`);
    }
    const problem = layoutProblem(dt, shape, strides, data);
    if (problem) throw new InvalidArray(problem);
    this.#dt = dt;
    this.dtype = dt.little;
    this.order = !isContiguous(shape, strides, dt.itemsize, "C") &&
        isContiguous(shape, strides, dt.itemsize, "F")
      ? "F"
      : "C";
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Number of axes. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Bytes per element. */
  get itemsize(): number {
    return this.#dt.itemsize;
  }

  /**
   * The element at an index (one integer per axis; none for 0-d arrays).
   * @throws {InvalidArray} when the index is out of bounds.
   */
  get(...index: number[]): NDArrayScalar {
    if (index.length !== this.shape.length) {
      throw new InvalidArray(`index has ${index.length} axes, array has ${this.shape.length}`);
    }
    let offset = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.shape[i]) {
        throw new InvalidArray(`index ${k} out of bounds for axis ${i} of length ${this.shape[i]}`);
      }
      offset += k * this.strides[i];
    }
    return this.#at(offset / this.data.BYTES_PER_ELEMENT);
  }

  /**
   * In a Deno Jupyter notebook: small arrays as a table of their values, others as a summary
   * (dtype, shape, range, mean).
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    return ndarrayBundle(this);
  }

  /** Nested JS arrays of {@link NDArrayScalar}s (a bare scalar for a 0-d array). */
  toNested(): unknown {
    const unit = this.data.BYTES_PER_ELEMENT;
    const walk = (axis: number, offset: number): unknown => {
      if (axis === this.shape.length) return this.#at(offset / unit);
      const out = new Array(this.shape[axis]);
      for (let i = 0; i < out.length; i++) out[i] = walk(axis + 1, offset + i * this.strides[axis]);
      return out;
    };
    return walk(0, 0);
  }

  #at(u: number): NDArrayScalar {
    const dt = this.#dt;
    const data = this.data;
    switch (dt.kind) {
      case "b":
        return data[u] !== 0;
      case "c":
        return [data[u] as number, data[u + 1] as number];
      case "S": {
        let end = u + dt.units;
        while (end > u && data[end - 1] === 0) end--;
        return (data as Uint8Array).slice(u, end);
      }
      case "U": {
        let s = "";
        for (let i = u; i < u + dt.units; i++) {
          const c = data[i] as number;
          if (c === 0) break;
          s += String.fromCodePoint(c <= 0x10ffff ? c : 0xfffd);
        }
        return s;
      }
      default:
        return data[u];
    }
  }

  /**
   * An array over a typed array's elements, C order unless `order: "F"`. The dtype follows from
   * the typed array (`Float64Array` → `"<f8"`, `BigInt64Array` → `"<i8"`, `Uint8Array` → `"|u1"`);
   * pass `dtype` for others that share its storage, e.g. `"|b1"` (Uint8Array), `"<M8[ns]"`
   * (BigInt64Array) or `"<c16"` (Float64Array of re/im pairs).
   * @param shape defaults to one axis over all elements.
   * @throws {InvalidArray} when shape and length or dtype and storage disagree.
   */
  static from(
    data: NDArrayData,
    shape?: number[],
    options: { order?: "C" | "F"; dtype?: string } = {},
  ): NDArray {
    const dtype = options.dtype ?? defaultDType(data);
    const dt = parseDType(dtype);
    if (!dt) throw new InvalidArray(unsupportedDType(dtype));
    if (!(data instanceof dt.ctor)) {
      throw new InvalidArray(
        `dtype ${dtype} needs a ${dt.ctor.name}, got a ${data.constructor.name}`,
      );
    }
    const s = shape ?? [data.length / dt.units];
    const count = s.reduce((a, b) => a * b, 1);
    if (count * dt.units !== data.length) {
      throw new InvalidArray(
        `shape [${s}] holds ${count} elements but the ${data.constructor.name} has ` +
          `${data.length / dt.units}`,
      );
    }
    return new NDArray(dtype, s, contiguousStrides(s, dt.itemsize, options.order ?? "C"), data);
  }

  /**
   * An array over received bytes: converts big-endian data to little-endian and copies when the
   * bytes are not aligned for the typed array; otherwise a zero-copy view.
   * @param strides byte strides; default C-contiguous (or F with `order: "F"`).
   * @throws {DecodeFailed} for unsupported dtypes or bytes too short for shape and strides.
   */
  static fromBytes(
    bytes: Uint8Array,
    dtype: string,
    shape: number[],
    options: { strides?: number[]; order?: "C" | "F" } = {},
  ): NDArray {
    const dt = parseDType(dtype);
    if (!dt) throw new DecodeFailed(unsupportedDType(dtype));
    const strides = options.strides ?? contiguousStrides(shape, dt.itemsize, options.order ?? "C");
    const unit = dt.ctor.BYTES_PER_ELEMENT;
    let src = bytes;
    if (dt.order === ">" && unit > 1) src = byteswap(bytes, unit);
    else if (src.byteOffset % unit !== 0) src = src.slice();
    const data = new dt.ctor(src.buffer, src.byteOffset, Math.floor(src.byteLength / unit));
    const problem = layoutProblem(dt, shape, strides, data);
    if (problem) throw new DecodeFailed(`invalid numpy array: ${problem}`);
    return new NDArray(dt.little, shape, strides, data);
  }
}

function defaultDType(data: NDArrayData): string {
  const name = data.constructor.name;
  const map: Record<string, string> = {
    Uint8Array: "|u1",
    Int8Array: "|i1",
    Uint16Array: "<u2",
    Int16Array: "<i2",
    Uint32Array: "<u4",
    Int32Array: "<i4",
    Float16Array: "<f2",
    Float32Array: "<f4",
    Float64Array: "<f8",
    BigInt64Array: "<i8",
    BigUint64Array: "<u8",
  };
  const dtype = map[name];
  if (!dtype) throw new InvalidArray(`no numpy dtype for a ${name}; pass options.dtype`);
  return dtype;
}

/** Why shape/strides cannot index `data`, or `undefined` when they can. */
function layoutProblem(
  dt: DType,
  shape: unknown,
  strides: unknown,
  data: NDArrayData,
): string | undefined {
  if (!isIntArray(shape) || shape.some((n) => n < 0)) {
    return `shape ${showValue(shape)} is not a list of sizes`;
  }
  if (!isIntArray(strides) || strides.length !== shape.length) {
    return `strides ${showValue(strides)} do not match shape [${shape}]`;
  }
  const unit = dt.ctor.BYTES_PER_ELEMENT;
  let last = 0;
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    count *= shape[i];
    if (shape[i] <= 1) continue;
    if (strides[i] < 0 || strides[i] % unit !== 0) {
      return `stride ${strides[i]} of axis ${i} is not a non-negative multiple of ${unit}`;
    }
    last += (shape[i] - 1) * strides[i];
  }
  if (!Number.isSafeInteger(count)) return `shape [${shape}] is too large`;
  if (count === 0) return undefined;
  if (last + dt.itemsize > data.byteLength) {
    return `shape [${shape}] with strides [${strides}] needs ${last + dt.itemsize} bytes, ` +
      `data has ${data.byteLength}`;
  }
  return undefined;
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x));
}

function contiguousStrides(shape: number[], itemsize: number, order: "C" | "F"): number[] {
  const strides = new Array<number>(shape.length);
  let step = itemsize;
  if (order === "C") {
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = step;
      step *= Math.max(shape[i], 1);
    }
  } else {
    for (let i = 0; i < shape.length; i++) {
      strides[i] = step;
      step *= Math.max(shape[i], 1);
    }
  }
  return strides;
}

/** numpy's contiguity test: axes of length 1 may have any stride. */
function isContiguous(
  shape: number[],
  strides: number[],
  itemsize: number,
  order: "C" | "F",
): boolean {
  if (shape.some((n) => n === 0)) return true;
  let step = itemsize;
  const n = shape.length;
  for (let j = 0; j < n; j++) {
    const i = order === "C" ? n - 1 - j : j;
    if (shape[i] === 1) continue;
    if (strides[i] !== step) return false;
    step *= shape[i];
  }
  return true;
}

function byteswap(bytes: Uint8Array, unit: number): Uint8Array {
  const out = new Uint8Array(bytes.length - (bytes.length % unit));
  for (let i = 0; i < out.length; i += unit) {
    for (let j = 0; j < unit; j++) out[i + j] = bytes[i + unit - 1 - j];
  }
  return out;
}

/** A dask-family header and frames, as {@link serializeNumpy} produces and {@link deserializeNumpy} reads. */
export interface NumpySerialized {
  /** `{serializer: "dask", type: "numpy.ndarray", "type-serialized", "sub-header": {…}}`. */
  header: Record<string, unknown>;
  /** One frame: the array's bytes. */
  frames: Uint8Array[];
}

const NDARRAY_TYPE_PICKLE = dumps(new PyGlobal("numpy", "ndarray"));

/**
 * Serializes an array as distributed's `dask` family does (`serialize_numpy_ndarray`): C- or
 * F-contiguous data is sent as is (no copy), broadcast arrays (zero strides) send only their
 * block plus `broadcast_to`, anything else is first copied into C order.
 */
export function serializeNumpy(arr: NDArray): NumpySerialized {
  const itemsize = arr.itemsize;
  const broadcast = arr.strides.some((s, i) => s === 0 && arr.shape[i] > 1);
  const block = broadcast
    ? arr.shape.map((n, i) => (arr.strides[i] === 0 ? Math.min(n, 1) : n))
    : arr.shape;
  let strides = arr.strides;
  let frame: Uint8Array;
  const blockSize = block.reduce((a, b) => a * b, 1);
  const dense = block.map((n, i) => (n === 1 ? itemsize : strides[i]));
  if (
    blockSize === 0 ||
    isContiguous(block, dense, itemsize, "C") || isContiguous(block, dense, itemsize, "F")
  ) {
    let last = 0;
    for (let i = 0; i < block.length; i++) if (block[i] > 1) last += (block[i] - 1) * strides[i];
    const length = blockSize === 0 ? 0 : last + itemsize;
    frame = new Uint8Array(arr.data.buffer, arr.data.byteOffset, length);
  } else {
    frame = copyToC(arr, block);
    const c = contiguousStrides(block, itemsize, "C");
    strides = strides.map((s, i) => (s === 0 && arr.shape[i] > 1 ? 0 : c[i]));
  }
  const subHeader: Record<string, unknown> = {
    dtype: [0, arr.dtype],
    shape: block,
    strides,
    writeable: [true],
  };
  if (broadcast) subHeader["broadcast_to"] = arr.shape;
  return {
    header: {
      serializer: "dask",
      type: "numpy.ndarray",
      "type-serialized": NDARRAY_TYPE_PICKLE,
      "sub-header": subHeader,
    },
    frames: [frame],
  };
}

function copyToC(arr: NDArray, block: number[]): Uint8Array {
  const itemsize = arr.itemsize;
  const src = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(block.reduce((a, b) => a * b, 1) * itemsize);
  let p = 0;
  const walk = (axis: number, offset: number): void => {
    if (axis === block.length) {
      out.set(src.subarray(offset, offset + itemsize), p);
      p += itemsize;
      return;
    }
    for (let i = 0; i < block[axis]; i++) walk(axis + 1, offset + i * arr.strides[axis]);
  };
  walk(0, 0);
  return out;
}

/**
 * Reads a `dask`-family `numpy.ndarray` (the full header, with `sub-header`) as distributed's
 * `deserialize_numpy_ndarray` does: dtype `[0, str]`, `shape` (or `broadcast_to`) and byte
 * `strides` over the single frame.
 * @throws {DecodeFailed} for object/void/custom dtypes, malformed headers or short frames.
 */
export function deserializeNumpy(header: Record<string, unknown>, frames: Uint8Array[]): NDArray {
  const sub = header["sub-header"];
  if (sub === null || typeof sub !== "object") {
    throw new DecodeFailed(`numpy.ndarray header has no "sub-header" map`);
  }
  const h = sub as Record<string, unknown>;
  if (h["pickle"]) {
    throw new DecodeFailed(
      `numpy array of Python objects (dtype object) received; convert it in the graph ` +
        `(e.g. .tolist() or .astype(str)) or gather with the "pickle" serializer`,
    );
  }
  if (frames.length !== 1) {
    throw new DecodeFailed(`numpy.ndarray needs exactly one frame, got ${frames.length}`);
  }
  const dtype = h["dtype"];
  if (
    !Array.isArray(dtype) || dtype.length !== 2 || dtype[0] !== 0 || typeof dtype[1] !== "string"
  ) {
    throw new DecodeFailed(
      `numpy dtype ${showValue(dtype)} is a structured or custom dtype; only plain dtypes are ` +
        `supported — convert the array in the graph`,
    );
  }
  const shape = h["broadcast_to"] ?? h["shape"];
  const strides = h["strides"];
  if (!isIntArray(shape) || !isIntArray(strides)) {
    throw new DecodeFailed(
      `numpy.ndarray header has bad shape ${showValue(shape)} or strides ${showValue(strides)}`,
    );
  }
  return NDArray.fromBytes(frames[0], dtype[1], shape, { strides });
}
