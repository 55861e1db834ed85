/**
 * Messages as distributed's `protocol.dumps`/`loads` write them (`docs/wire-protocol.md`,
 * "Message encoding"): frame 0 is msgpack of the message, with placeholders for values carried
 * in further frames — `{"__Serialized__": i}` (a {@link Serialized}), `{"__Pickled__": i}` (a
 * {@link ToPickle}) — and `{"__Set__": true, "as-list": […]}` for sets.
 * @module
 */

import { DecodeFailed } from "../errors.ts";
import { assertCodecsLoaded, decompressFrame } from "./lz4.ts";
import {
  decodeMsgpack,
  DEFAULT_MSGPACK_MAX_DEPTH,
  encodeMsgpack,
  Float64,
  type MsgpackDecodeOptions,
  setOwn,
} from "./msgpack.ts";
import { NDArray } from "./numpy.ts";
import { loads } from "./pickle/reader.ts";
import { dumps } from "./pickle/writer.ts";
import {
  PyCall,
  PyFloat,
  PyGlobal,
  PyPickled,
  PySet,
  PyTuple,
  type PyValue,
} from "./pickle/python_values.ts";
import { serialize, Serialized } from "./serialize.ts";

/**
 * A value to send pickled in its own sub-frame (`{"__Pickled__": i}`). The receiver — the
 * scheduler included — unpickles it on arrival, so every {@link PyCall} inside runs there.
 */
export class ToPickle {
  /** Marks `value` for pickling. */
  constructor(readonly value: PyValue) {}
}

/** Options of {@link encodeMessage}. */
export interface EncodeMessageOptions {
  /** Nesting limit of the message. Default 256. */
  maxDepth?: number;
}

/**
 * Encodes a message into frames: frame 0 is msgpack of `msg`; each {@link Serialized} adds a
 * sub-header frame (its header plus `num-sub-frames`) followed by its payload frames, which are
 * passed through without copying; each {@link ToPickle} adds `{"pickled-obj", "num-sub-frames": 0}`.
 *
 * Besides msgpack's own types: `Set`/{@link PySet} → `__Set__`; {@link PyTuple} → array;
 * {@link PyFloat} → float64; `NDArray` → `Serialized` (dask numpy); {@link PyGlobal},
 * {@link PyCall}, {@link PyPickled} → {@link ToPickle}; `Map` keeps non-string keys.
 * @throws {EncodeFailed} (from `errors.ts`) for values with no wire form (functions, class
 *   instances, …).
 */
export function encodeMessage(msg: unknown, options: EncodeMessageOptions = {}): Uint8Array[] {
  const frames: Uint8Array[] = [new Uint8Array()];
  const addSerialized = (s: Serialized): Record<string, number> => {
    const offset = frames.length;
    const header = { ...s.header, "num-sub-frames": s.frames.length };
    frames.push(encodeMsgpack(header, { replace: replaceInSubHeader }));
    for (const f of s.frames) frames.push(f);
    return { __Serialized__: offset };
  };
  const replace = (v: unknown): unknown => {
    if (v instanceof Serialized) return addSerialized(v);
    if (v instanceof NDArray) return addSerialized(serialize(v));
    if (v instanceof PyGlobal || v instanceof PyCall || v instanceof PyPickled) v = new ToPickle(v);
    if (v instanceof ToPickle) {
      const offset = frames.length;
      frames.push(
        encodeMsgpack({ "pickled-obj": dumps(v.value, { protocol: 5 }), "num-sub-frames": 0 }),
      );
      return { __Pickled__: offset };
    }
    return replaceCommon(v);
  };
  frames[0] = encodeMsgpack(msg, { replace, maxDepth: options.maxDepth });
  return frames;
}

/** Conversions shared by frame 0 and sub-headers. */
function replaceCommon(v: unknown): unknown {
  if (v instanceof Set) return { __Set__: true, "as-list": [...v] };
  if (v instanceof PySet) return { __Set__: true, "as-list": v.items };
  if (v instanceof PyTuple) return v.items;
  if (v instanceof PyFloat) return new Float64(v.value);
  return undefined;
}

/** Inside a sub-header a nested `Serialized` is written inline, as distributed does. */
function replaceInSubHeader(v: unknown): unknown {
  if (v instanceof Serialized) return { __Serialized__: true, data: [v.header, v.frames] };
  return replaceCommon(v);
}

/** Options of {@link decodeMessage}. */
export interface DecodeMessageOptions {
  /**
   * Nesting limit of values, in levels of the value (a list in a list … counts one per list,
   * also where a nested collection's sub-headers need two msgpack levels per level). Default 256.
   */
  maxDepth?: number;
  /** Limit on values one `__Pickled__` pickle may create (see `LoadsOptions.maxOutputItems`). */
  maxOutputItems?: number;
  /** Largest decompressed size of one compressed `__Pickled__` buffer frame. Default 2 GiB. */
  maxFrameBytes?: number;
  /**
   * Called for each `__Serialized__` value of the message; what it returns stands there instead
   * (e.g. the value deserialized at once, so that a reply of many values keeps no headers and
   * frames until the end of decoding).
   */
  onSerialized?: (value: Serialized) => unknown;
}

/**
 * Decodes the frames of one message. `{"__Serialized__": i}` becomes a {@link Serialized} (not
 * yet deserialized, frames possibly still compressed — call `deserialize`); `{"__Pickled__": i}`
 * is unpickled with the safe reader; `__Set__` → `Set`. Maps with non-string keys → `Map`,
 * ints beyond ±2⁵³ → `bigint`, bin → `Uint8Array`, arrays (Python tuples too) → arrays.
 * @throws {DecodeFailed} for malformed msgpack, bad placeholder indices or bad pickles.
 */
export function decodeMessage(frames: Uint8Array[], options: DecodeMessageOptions = {}): unknown {
  if (frames.length === 0) throw new DecodeFailed("message has no frames");
  const msgpackOptions: MsgpackDecodeOptions = { maxDepth: options.maxDepth };
  const subFrames = (offset: unknown, kind: string): [Record<string, unknown>, Uint8Array[]] => {
    if (
      !Number.isSafeInteger(offset) || (offset as number) < 1 || (offset as number) >= frames.length
    ) {
      throw new DecodeFailed(
        `${kind} placeholder points at frame ${offset}, but the message has ${frames.length}`,
      );
    }
    const i = offset as number;
    const header = decodeMsgpack(frames[i], {
      // A nested collection's sub-header spends two msgpack levels per level of the value (a
      // map holding a `sub-headers` array): the limit counts the value's levels.
      maxDepth: 2 * (options.maxDepth ?? DEFAULT_MSGPACK_MAX_DEPTH) + 2,
      mapHook: kind === "__Serialized__" ? subHeaderHook : undefined,
    });
    if (
      header === null || typeof header !== "object" || header instanceof Map ||
      Array.isArray(header)
    ) {
      throw new DecodeFailed(`${kind} sub-header in frame ${i} is not a map with string keys`);
    }
    const h = header as Record<string, unknown>;
    const n = h["num-sub-frames"];
    if (!Number.isSafeInteger(n) || (n as number) < 0 || i + 1 + (n as number) > frames.length) {
      throw new DecodeFailed(
        `${kind} sub-header in frame ${i} claims ${n} frames; the message has ${frames.length}`,
      );
    }
    // A copy without the count (deleting a key that is not the last one would turn every
    // header of a large reply into a slow dictionary-mode object).
    const rest: Record<string, unknown> = {};
    for (const k in h) if (k !== "num-sub-frames") setOwn(rest, k, h[k]);
    return [rest, frames.slice(i + 1, i + 1 + (n as number))];
  };
  const mapHook = (m: Record<string, unknown> | Map<unknown, unknown>): unknown => {
    if (m instanceof Map) return m;
    if ("__Serialized__" in m && typeof m.__Serialized__ === "number") {
      const [header, payload] = subFrames(m.__Serialized__, "__Serialized__");
      assertCodecsLoaded(header["compression"]);
      const value = new Serialized(header, payload);
      return options.onSerialized ? options.onSerialized(value) : value;
    }
    if ("__Pickled__" in m) {
      const [header, payload] = subFrames(m.__Pickled__, "__Pickled__");
      const pickled = header["pickled-obj"];
      if (!(pickled instanceof Uint8Array)) {
        throw new DecodeFailed(`__Pickled__ sub-header has no "pickled-obj" bytes`);
      }
      let buffers = payload;
      if ("compression" in header) {
        const codecs = header["compression"];
        if (!Array.isArray(codecs) || codecs.length !== payload.length) {
          throw new DecodeFailed(
            `__Pickled__ "compression" does not match its ${payload.length} frames`,
          );
        }
        buffers = payload.map((f, j) =>
          decompressFrame(codecs[j], f, { maxOutput: options.maxFrameBytes })
        );
      }
      return loads(pickled, {
        buffers,
        maxDepth: options.maxDepth,
        maxOutputItems: options.maxOutputItems,
      });
    }
    return subHeaderHook(m);
  };
  return decodeMsgpack(frames[0], { ...msgpackOptions, mapHook });
}

/** distributed's `msgpack_decode_default`: sets and inline `Serialized` values. */
function subHeaderHook(m: Record<string, unknown> | Map<unknown, unknown>): unknown {
  if (m instanceof Map) return m;
  if ("__Set__" in m) {
    const items = m["as-list"];
    if (!Array.isArray(items)) throw new DecodeFailed(`__Set__ without an "as-list" array`);
    return new Set(items);
  }
  if (m.__Serialized__ === true) {
    const data = m.data;
    if (
      !Array.isArray(data) || data.length !== 2 || data[0] === null ||
      typeof data[0] !== "object" ||
      !Array.isArray(data[1]) || !data[1].every((f) => f instanceof Uint8Array)
    ) {
      throw new DecodeFailed(`inline __Serialized__ value has no [header, frames] "data"`);
    }
    return new Serialized(data[0] as Record<string, unknown>, data[1] as Uint8Array[]);
  }
  return m;
}
