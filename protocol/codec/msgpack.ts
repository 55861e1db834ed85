/**
 * msgpack as `distributed` speaks it (`use_bin_type=True`, `raw=False`, `strict_map_key=False`,
 * no ext types): map keys of any type, bin ↔ `Uint8Array`, 64-bit ints ↔ `bigint`.
 *
 * Own codec rather than `npm:@msgpack/msgpack@3.1.3`: that decoder only yields plain objects
 * (`mapKeyConverter` may return strings or numbers, so tuple keys such as `("x", 0)` in `who_has`
 * cannot survive), has no nesting limit, and its encoder ignores `Map`s. Placeholders
 * (`__Serialized__`, `__Set__`, …) are layered on top by `message.ts` through the `replace` and
 * `mapHook` options, mirroring Python's `default` and `object_hook`.
 * @module
 */

import { isPlainObject } from "../../base/mod.ts";
import { ByteReader } from "./byte_reader.ts";
import { ByteWriter, utf8Length } from "./byte_writer.ts";
import { EncodeFailed } from "../errors.ts";

/** Default nesting limit (arrays and maps) for {@link decodeMsgpack} and {@link encodeMsgpack}. */
export const DEFAULT_MSGPACK_MAX_DEPTH = 256;

/** A number that must be sent as a msgpack float64 even when it is integral (e.g. `5.0`). */
export class Float64 {
  /** Wraps the number to send as float64. */
  constructor(readonly value: number) {}
}

/** Options of {@link encodeMsgpack}. */
export interface MsgpackEncodeOptions {
  /**
   * Called for a value msgpack cannot represent (anything but null, boolean, number, bigint,
   * string, `Uint8Array`, array, `Map`, plain object, {@link Float64}); its return value is
   * encoded instead — like Python msgpack's `default`. When it returns `undefined` (or there is
   * no hook) such values throw {@link EncodeFailed}.
   */
  replace?: (value: unknown) => unknown;
  /** Nesting limit; deeper (or cyclic) values throw {@link EncodeFailed}. Default 256. */
  maxDepth?: number;
}

/**
 * Encodes a value as msgpack. Integral numbers become ints, others float64; `undefined`
 * object properties are skipped and `undefined` elsewhere becomes nil.
 */
export function encodeMsgpack(value: unknown, options: MsgpackEncodeOptions = {}): Uint8Array {
  const w = new ByteWriter(256);
  new MsgpackEncoder(w, options).encode(value, 0);
  return w.finish();
}

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_64 = 18446744073709551616;

class MsgpackEncoder {
  readonly #maxDepth: number;
  readonly #replace?: (value: unknown) => unknown;

  constructor(readonly w: ByteWriter, options: MsgpackEncodeOptions) {
    this.#maxDepth = options.maxDepth ?? DEFAULT_MSGPACK_MAX_DEPTH;
    this.#replace = options.replace;
  }

  encode(v: unknown, depth: number): void {
    const w = this.w;
    switch (typeof v) {
      case "string":
        return this.#str(v);
      case "number":
        return this.#number(v);
      case "boolean":
        return w.u8(v ? 0xc3 : 0xc2);
      case "bigint":
        return this.#bigint(v);
      case "undefined":
        return w.u8(0xc0);
      case "object":
        if (v === null) return w.u8(0xc0);
        if (depth >= this.#maxDepth) {
          throw new EncodeFailed(
            `msgpack value nested deeper than ${this.#maxDepth} levels (or cyclic); ` +
              `flatten the message`,
          );
        }
        if (Array.isArray(v)) {
          this.#arrayHeader(v.length);
          for (let i = 0; i < v.length; i++) this.encode(v[i], depth + 1);
          return;
        }
        if (v instanceof Uint8Array) return this.#bin(v);
        if (v instanceof Map) {
          this.#mapHeader(v.size);
          // forEach: no entry array per item (a map of 10 000 task priorities is common).
          v.forEach((x, k) => {
            this.encode(k, depth + 1);
            this.encode(x, depth + 1);
          });
          return;
        }
        if (v instanceof Float64) {
          w.u8(0xcb);
          return w.f64be(v.value);
        }
        if (isPlainObject(v)) return this.#object(v, depth);
    }
    if (this.#replace) {
      const r = this.#replace(v);
      if (r !== undefined && r !== v) return this.encode(r, depth + 1);
    }
    throw new EncodeFailed(`cannot encode ${describe(v)} as msgpack`);
  }

  #object(o: Record<string, unknown>, depth: number): void {
    let n = 0;
    for (const k in o) if (o[k] !== undefined) n++;
    this.#mapHeader(n);
    for (const k in o) {
      const x = o[k];
      if (x === undefined) continue;
      this.#str(k);
      this.encode(x, depth + 1);
    }
  }

  #str(s: string): void {
    const w = this.w;
    const n = s.length < 32 && isAscii(s) ? s.length : utf8Length(s);
    if (n < 32) w.u8(0xa0 | n);
    else if (n < 0x100) w.u8x2(0xd9, n);
    else if (n < 0x10000) {
      w.u8(0xda);
      w.u16be(n);
    } else {
      w.u8(0xdb);
      w.u32be(n);
    }
    w.utf8(s, n);
  }

  #bin(b: Uint8Array): void {
    const w = this.w;
    const n = b.length;
    if (n < 0x100) w.u8x2(0xc4, n);
    else if (n < 0x10000) {
      w.u8(0xc5);
      w.u16be(n);
    } else {
      w.u8(0xc6);
      w.u32be(n);
    }
    w.bytes(b);
  }

  #number(v: number): void {
    const w = this.w;
    if (!Number.isInteger(v) || v >= TWO_POW_64 || v < -(2 ** 63)) {
      w.u8(0xcb);
      return w.f64be(v);
    }
    if (v >= 0) {
      if (v < 0x80) return w.u8(v);
      if (v < 0x100) return w.u8x2(0xcc, v);
      if (v < 0x10000) {
        w.u8(0xcd);
        return w.u16be(v);
      }
      if (v < TWO_POW_32) {
        w.u8(0xce);
        return w.u32be(v);
      }
      w.u8(0xcf);
      return w.u64be(BigInt(v));
    }
    if (v >= -32) return w.u8(v & 0xff);
    if (v >= -0x80) return w.u8x2(0xd0, v & 0xff);
    if (v >= -0x8000) {
      w.u8(0xd1);
      return w.u16be(v & 0xffff);
    }
    if (v >= -0x8000_0000) {
      w.u8(0xd2);
      return w.u32be(v >>> 0);
    }
    w.u8(0xd3);
    return w.i64be(BigInt(v));
  }

  #bigint(v: bigint): void {
    if (v >= -(2n ** 63n) && v < 2n ** 64n) {
      if (v >= -9007199254740991n && v <= 9007199254740991n) return this.#number(Number(v));
      if (v > 0n) {
        this.w.u8(0xcf);
        return this.w.u64be(v);
      }
      this.w.u8(0xd3);
      return this.w.i64be(v);
    }
    throw new EncodeFailed(`integer ${v} does not fit msgpack's 64 bits; send it pickled instead`);
  }

  #arrayHeader(n: number): void {
    const w = this.w;
    if (n < 16) w.u8(0x90 | n);
    else if (n < 0x10000) {
      w.u8(0xdc);
      w.u16be(n);
    } else {
      w.u8(0xdd);
      w.u32be(n);
    }
  }

  #mapHeader(n: number): void {
    const w = this.w;
    if (n < 16) w.u8(0x80 | n);
    else if (n < 0x10000) {
      w.u8(0xde);
      w.u16be(n);
    } else {
      w.u8(0xdf);
      w.u32be(n);
    }
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Sets a property even when it is `"__proto__"` (as an own, enumerable property). */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    o[k] = v;
  }
}

/** Short description of a value's type for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name ? `a ${name} object` : "an object";
}

/** Options of {@link decodeMsgpack}. */
export interface MsgpackDecodeOptions {
  /** Nesting limit for arrays and maps; deeper data throws `DecodeFailed`. Default 256. */
  maxDepth?: number;
  /**
   * Called on every decoded map — a plain object when all keys are strings, else a `Map` — and
   * its return value is used instead, like Python msgpack's `object_hook`.
   */
  mapHook?: (map: Record<string, unknown> | Map<unknown, unknown>) => unknown;
}

/**
 * Decodes one msgpack value that must fill `data` exactly. Arrays → JS arrays; maps → plain
 * objects when every key is a string (a `"__proto__"` key becomes an own property), else `Map`;
 * ints beyond ±2⁵³ → `bigint`; bin → `Uint8Array` (copied); ext types are rejected.
 * @throws {DecodeFailed} on malformed, truncated, too deep or trailing data.
 */
export function decodeMsgpack(data: Uint8Array, options: MsgpackDecodeOptions = {}): unknown {
  const r = new ByteReader(data, "msgpack");
  const d = new MsgpackDecoder(r, options);
  const v = d.value(0);
  if (r.remaining > 0) r.fail(`${r.remaining} bytes left over after the msgpack value`);
  return v;
}

class MsgpackDecoder {
  readonly #maxDepth: number;
  readonly #mapHook?: (map: Record<string, unknown> | Map<unknown, unknown>) => unknown;

  constructor(readonly r: ByteReader, options: MsgpackDecodeOptions) {
    this.#maxDepth = options.maxDepth ?? DEFAULT_MSGPACK_MAX_DEPTH;
    this.#mapHook = options.mapHook;
  }

  value(depth: number): unknown {
    const r = this.r;
    const b = r.u8();
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b < 0xc0) return r.utf8(b & 0x1f, true);
    if (b < 0x90) return this.#map(b & 0x0f, depth);
    if (b < 0xa0) return this.#array(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return r.copy(r.u8(), "bin");
      case 0xc5:
        return r.copy(r.u16be(), "bin");
      case 0xc6:
        return r.copy(r.u32be(), "bin");
      case 0xca:
        return r.f32be();
      case 0xcb:
        return r.f64be();
      case 0xcc:
        return r.u8();
      case 0xcd:
        return r.u16be();
      case 0xce:
        return r.u32be();
      case 0xcf:
        return r.u64be();
      case 0xd0:
        return (r.u8() << 24) >> 24;
      case 0xd1:
        return (r.u16be() << 16) >> 16;
      case 0xd2:
        return r.u32be() | 0;
      case 0xd3:
        return r.i64be();
      case 0xd9:
        return r.utf8(r.u8(), true);
      case 0xda:
        return r.utf8(r.u16be(), true);
      case 0xdb:
        return r.utf8(r.u32be(), true);
      case 0xdc:
        return this.#array(r.u16be(), depth);
      case 0xdd:
        return this.#array(r.u32be(), depth);
      case 0xde:
        return this.#map(r.u16be(), depth);
      case 0xdf:
        return this.#map(r.u32be(), depth);
      case 0xc1:
        r.pos--;
        return r.fail("byte 0xc1 is never used in msgpack");
      default:
        // 0xc7–0xc9, 0xd4–0xd8: ext types.
        r.pos--;
        return r.fail(
          `msgpack ext type (byte 0x${b.toString(16)}) found; distributed never sends ext types`,
        );
    }
  }

  #enter(depth: number): void {
    if (depth >= this.#maxDepth) {
      this.r.fail(`nested deeper than ${this.#maxDepth} levels (maxDepth)`);
    }
  }

  #array(n: number, depth: number): unknown[] {
    this.#enter(depth);
    this.r.need(n, `array of ${n} items`);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  #map(n: number, depth: number): unknown {
    this.#enter(depth);
    this.r.need(2 * n, `map of ${n} entries`);
    let obj: Record<string, unknown> | null = {};
    let map: Map<unknown, unknown> | null = null;
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      const v = this.value(depth + 1);
      if (obj !== null && typeof k === "string") {
        if (k === "__proto__") {
          Object.defineProperty(obj, k, {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          obj[k] = v;
        }
        continue;
      }
      if (obj !== null) {
        map = new Map(Object.entries(obj));
        obj = null;
      }
      map!.set(k, v);
    }
    const result = obj ?? map!;
    return this.#mapHook ? this.#mapHook(result) : result;
  }
}
