/**
 * distributed's serializer families (`docs/wire-protocol.md`, "Serializer families"):
 * {@link Serialized} header+frames pairs, {@link deserialize} for what workers and the scheduler
 * send (msgpack, pickle with out-of-band buffers, dask bytes/arrays/numpy, collections, split and
 * compressed frames) and {@link serialize} for what we send (scatter).
 * @module
 */

import { isPlainObject } from "../../base/mod.ts";
import { DecodeFailed, RemoteSerializationFailed } from "../errors.ts";
import { decompressFrame } from "./lz4.ts";
import { decodeMsgpack, DEFAULT_MSGPACK_MAX_DEPTH, encodeMsgpack, setOwn } from "./msgpack.ts";
import { deserializeNumpy, NDArray, serializeNumpy } from "./numpy.ts";
import { loads } from "./pickle/reader.ts";
import { dumps } from "./pickle/writer.ts";
import { PyGlobal, type PyValue } from "./pickle/python_values.ts";
import { showValue } from "./show_value.ts";

/**
 * A value still in serialized form: distributed's sub-header (`serializer`, `compression`,
 * `split-*`, `is-collection`, …) and its payload frames, as they came off the wire (possibly
 * compressed). The scheduler passes these along untouched; call {@link deserialize} to read one.
 */
export class Serialized {
  /** A value as header and frames. */
  constructor(
    /** The sub-header (without `num-sub-frames`, which only exists on the wire). */
    public header: Record<string, unknown>,
    /** Payload frames. */
    public frames: Uint8Array[],
  ) {}
}

/** Options of {@link deserialize}. */
export interface DeserializeOptions {
  /** Nesting limit for msgpack and pickle payloads and collections. Default 256. */
  maxDepth?: number;
  /** Limit on values a pickle payload may create (see `LoadsOptions.maxOutputItems`). */
  maxOutputItems?: number;
  /** Largest decompressed size of one compressed frame. Default 2 GiB. */
  maxFrameBytes?: number;
}

/**
 * Turns a {@link Serialized} into a JS value as distributed's `merge_and_deserialize` does:
 * decompress each wire frame by `compression`, join shards by `split-num-sub-frames` /
 * `split-offsets`, then read by family — `msgpack`; `pickle` (safe reader, trailing frames as
 * out-of-band buffers); `dask` by `type`: `numpy.ndarray` → `NDArray`, `bytes`/`bytearray`/
 * `memoryview` → `Uint8Array`, `array` → a typed array; collections (`is-collection`) →
 * array/`Set`/object or `Map`.
 * @throws {RemoteSerializationFailed} for the `error` family (the peer could not serialize).
 * @throws {DecodeFailed} for malformed headers or frames and unsupported families or types.
 */
export function deserialize(s: Serialized, options: DeserializeOptions = {}): unknown {
  const header = s.header;
  if (header === null || typeof header !== "object") {
    throw new DecodeFailed("serialized header is not a map");
  }
  let frames = s.frames;
  if ("compression" in header) {
    const codecs = header["compression"];
    if (!Array.isArray(codecs) || codecs.length !== frames.length) {
      throw new DecodeFailed(
        `header "compression" ${describeList(codecs)} does not match ${frames.length} frames`,
      );
    }
    // Usually nothing is compressed (small values, or two ends on one host): no copy then.
    if (codecs.some((c) => c !== null && c !== false && c !== undefined)) {
      const maxOutput = options.maxFrameBytes;
      frames = frames.map((f, i) => decompressFrame(codecs[i], f, { maxOutput }));
    }
  }
  if ("split-num-sub-frames" in header) frames = mergeShards(header, frames);
  return new Reader(options).value(header, frames, 0);
}

function describeList(v: unknown): string {
  return Array.isArray(v) ? `(${v.length} entries)` : JSON.stringify(typeof v);
}

function mergeShards(header: Record<string, unknown>, frames: Uint8Array[]): Uint8Array[] {
  const counts = header["split-num-sub-frames"];
  const offsets = header["split-offsets"];
  if (!Array.isArray(counts) || !Array.isArray(offsets) || counts.length !== offsets.length) {
    throw new DecodeFailed(`header "split-num-sub-frames"/"split-offsets" are not matching lists`);
  }
  // One frame per shard, in order (every small value): the frames as they are.
  if (
    counts.length === frames.length && counts.every((n, i) => n === 1 && offsets[i] === i)
  ) {
    return frames;
  }
  return counts.map((n, i) => {
    const offset = offsets[i];
    if (
      !Number.isSafeInteger(n) || !Number.isSafeInteger(offset) || n < 0 || offset < 0 ||
      offset + n > frames.length
    ) {
      throw new DecodeFailed(
        `shard ${i} (${n} frames at ${offset}) lies outside the ${frames.length} frames`,
      );
    }
    return concat(frames.slice(offset, offset + n));
  });
}

/**
 * Joins frames. A single frame, and frames that are neighbouring slices of one buffer (the shards
 * of a large value as the frame reader lays them out), come back as a view without copying.
 */
export function concat(frames: Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0];
  let size = 0;
  let adjacent = frames.length > 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (i > 0) {
      const prev = frames[i - 1];
      adjacent &&= f.buffer === prev.buffer && f.byteOffset === prev.byteOffset + prev.length;
    }
    size += f.length;
  }
  if (adjacent) return new Uint8Array(frames[0].buffer, frames[0].byteOffset, size);
  const out = new Uint8Array(size);
  let p = 0;
  for (const f of frames) {
    out.set(f, p);
    p += f.length;
  }
  return out;
}

const textDecoder = new TextDecoder();

/** Typed arrays for Python's `array` typecodes (64-bit Linux sizes, as on real workers). */
const ARRAY_TYPECODES: Record<
  string,
  { new (b: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number }
> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
};

class Reader {
  readonly #maxDepth: number;

  constructor(readonly options: DeserializeOptions) {
    this.#maxDepth = options.maxDepth ?? DEFAULT_MSGPACK_MAX_DEPTH;
  }

  value(header: Record<string, unknown>, frames: Uint8Array[], depth: number): unknown {
    if (depth >= this.#maxDepth) {
      throw new DecodeFailed(`collections nested deeper than ${this.#maxDepth}`);
    }
    if ("is-collection" in header) return this.#collection(header, frames, depth);
    const family = header["serializer"];
    switch (family) {
      case "msgpack":
        return decodeMsgpack(concat(frames), { maxDepth: this.#maxDepth });
      case "pickle":
        if (frames.length === 0) throw new DecodeFailed("pickle-serialized value has no frames");
        return loads(frames[0], {
          buffers: frames.slice(1),
          maxDepth: this.#maxDepth,
          maxOutputItems: this.options.maxOutputItems,
        });
      case "dask":
        return this.#dask(header, frames);
      case "error":
        throw new RemoteSerializationFailed(frames.map((f) => textDecoder.decode(f)).join("\n"));
      default:
        throw new DecodeFailed(
          `serializer family ${showValue(family)} is not supported (msgpack, pickle, dask); ` +
            `request serializers ["msgpack", "dask", "pickle"]`,
        );
    }
  }

  #dask(header: Record<string, unknown>, frames: Uint8Array[]): unknown {
    const type = header["type"];
    const sub = header["sub-header"];
    switch (type) {
      case "numpy.ndarray":
        return deserializeNumpy(header, frames);
      case "bytes":
      case "builtins.bytes":
      case "bytearray":
      case "builtins.bytearray":
      case "memoryview":
      case "builtins.memoryview":
        return concat(frames);
      case "array":
      case "array.array": {
        const code = sub !== null && typeof sub === "object"
          ? (sub as Record<string, unknown>)["typecode"]
          : undefined;
        const ctor = typeof code === "string" ? ARRAY_TYPECODES[code] : undefined;
        if (!ctor) {
          throw new DecodeFailed(`array typecode ${showValue(code)} is not supported`);
        }
        const bytes = concat(frames);
        if (bytes.length % ctor.BYTES_PER_ELEMENT !== 0) {
          throw new DecodeFailed(
            `array of typecode ${code} has ${bytes.length} bytes, not a whole number of items`,
          );
        }
        return new ctor(bytes.slice().buffer);
      }
      default:
        throw new DecodeFailed(
          `dask-serialized type ${showValue(type)} is not supported (numpy.ndarray, bytes, ` +
            `bytearray, memoryview, array); convert the value in the graph (e.g. to an ndarray or list)`,
        );
    }
  }

  #collection(header: Record<string, unknown>, frames: Uint8Array[], depth: number): unknown {
    const headers = header["sub-headers"];
    const lengths = header["frame-lengths"];
    const kind = header["type-serialized"];
    if (!Array.isArray(headers) || !Array.isArray(lengths) || headers.length !== lengths.length) {
      throw new DecodeFailed(`collection header has mismatched "sub-headers" and "frame-lengths"`);
    }
    if (kind !== "list" && kind !== "tuple" && kind !== "set" && kind !== "dict") {
      throw new DecodeFailed(
        `collection type ${showValue(kind)} is not list, tuple, set or dict`,
      );
    }
    const items: [unknown, unknown][] = [];
    let start = 0;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i];
      const n = lengths[i];
      if (
        h === null || typeof h !== "object" || h instanceof Map || !Number.isSafeInteger(n) || n < 0
      ) {
        throw new DecodeFailed(`collection element ${i} has a bad header or frame count`);
      }
      if (start + n > frames.length) {
        throw new DecodeFailed(
          `collection element ${i} needs frames beyond the ${frames.length} given`,
        );
      }
      const { key, ...rest } = h as Record<string, unknown>;
      items.push([key, this.value(rest, frames.slice(start, start + n), depth + 1)]);
      start += n;
    }
    if (kind === "set") return new Set(items.map(([, v]) => v));
    if (kind !== "dict") return items.map(([, v]) => v);
    if (items.every(([k]) => typeof k === "string")) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of items) setOwn(out, k as string, v);
      return out;
    }
    return new Map(items);
  }
}

const BYTES_TYPE_PICKLE = dumps(new PyGlobal("builtins", "bytes"));

/**
 * Serializes a value for sending (e.g. scatter) in a family workers read back faithfully:
 * `NDArray` → dask `numpy.ndarray` (no copy for contiguous data); `Uint8Array` → dask `bytes`;
 * values msgpack carries exactly (null, boolean, number, bigint, string, `Uint8Array`, arrays,
 * plain objects, `Map`s thereof) → `msgpack` (arrays arrive as tuples); anything else in the
 * `PyValue` model (`PyTuple`, `PyFloat`, `Set`, `PyCall`, …) → `pickle`. A `Serialized` is
 * returned as is.
 * @throws {EncodeFailed} for values outside these (functions, class instances, …).
 */
export function serialize(value: PyValue | NDArray | Serialized): Serialized {
  if (value instanceof Serialized) return value;
  if (value instanceof NDArray) {
    const { header, frames } = serializeNumpy(value);
    return new Serialized(header, frames);
  }
  if (value instanceof Uint8Array) {
    return new Serialized(
      { serializer: "dask", type: "bytes", "type-serialized": BYTES_TYPE_PICKLE, "sub-header": {} },
      [value],
    );
  }
  if (isMsgpackValue(value, 0)) {
    return new Serialized({ serializer: "msgpack" }, [encodeMsgpack(value)]);
  }
  return new Serialized({ serializer: "pickle", writeable: [] }, [dumps(value)]);
}

/** Whether msgpack round-trips `v` to the same Python value (no tuples, sets, forced floats). */
function isMsgpackValue(v: unknown, depth: number): boolean {
  if (depth > DEFAULT_MSGPACK_MAX_DEPTH) return false;
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      // Integral numbers beyond 64 bits would become floats.
      return !Number.isInteger(v) || Math.abs(v) < 2 ** 63;
    case "bigint":
      return v >= -(2n ** 63n) && v < 2n ** 64n;
    case "object":
      if (v === null || v instanceof Uint8Array) return true;
      if (Array.isArray(v)) return v.every((x) => isMsgpackValue(x, depth + 1));
      if (v instanceof Map) {
        for (const [k, x] of v) {
          if (!isMsgpackValue(k, depth + 1) || !isMsgpackValue(x, depth + 1)) return false;
        }
        return true;
      }
      if (isPlainObject(v)) {
        return Object.values(v).every((x) => x === undefined || isMsgpackValue(x, depth + 1));
      }
      return false;
    default:
      return false;
  }
}
