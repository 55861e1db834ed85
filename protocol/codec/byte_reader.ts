/**
 * A bounds-checked cursor over received bytes, shared by the pickle and msgpack decoders: every
 * read checks the remaining length first, so a corrupt length field fails with a
 * {@link DecodeFailed} before anything is allocated.
 * @module
 */

import { DecodeFailed } from "../errors.ts";

const lenientUtf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Strings up to this many bytes are decoded by hand when they are pure ASCII. */
const MANUAL_ASCII_MAX = 64;
/**
 * ASCII strings up to this many bytes are looked up in a small cache first: field names and short
 * values (`op`, `key`, `serializer`, `msgpack`, …) repeat in every message — tens of thousands of
 * times in one reply of a large `gather` — and then cost no allocation.
 */
const CACHED_MAX = 24;
const STRING_CACHE_SIZE = 1024;
const stringCache: (string | undefined)[] = new Array(STRING_CACHE_SIZE).fill(undefined);
/** Character codes of a string being made, one reused array per length (resizing allocates). */
const codesOfLength: number[][] = Array.from(
  { length: MANUAL_ASCII_MAX + 1 },
  (_, n) => new Array(n).fill(0),
);

/** `n` ASCII bytes from `start` as a string, made at once. */
function ascii(data: Uint8Array, start: number, n: number): string {
  const codes = codesOfLength[n];
  for (let i = 0; i < n; i++) codes[i] = data[start + i];
  return String.fromCharCode.apply(null, codes);
}

function sameAscii(s: string, data: Uint8Array, start: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== data[start + i]) return false;
  return true;
}

/** Reads numbers, byte runs and strings from a `Uint8Array`, throwing {@link DecodeFailed} on overrun. */
export class ByteReader {
  /** Offset of the next byte to read. */
  pos = 0;
  #dataView: DataView | undefined;

  /**
   * A reader positioned at the first byte.
   * @param data the bytes to read
   * @param what names the format in error messages, e.g. `"pickle"`
   */
  constructor(readonly data: Uint8Array, readonly what: string) {}

  /** Made on the first multi-byte read: most small values (one byte, a short string) need none. */
  get #view(): DataView {
    const d = this.data;
    return this.#dataView ??= new DataView(d.buffer, d.byteOffset, d.byteLength);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.data.length - this.pos;
  }

  /** Throws a {@link DecodeFailed} naming the format and the current offset. */
  fail(message: string): never {
    throw new DecodeFailed(`invalid ${this.what} data at byte ${this.pos}: ${message}`);
  }

  /** Fails unless `n` more bytes are available. */
  need(n: number, field = "value"): void {
    if (n > this.data.length - this.pos) {
      this.fail(
        `${field} needs ${n} bytes but only ${this.data.length - this.pos} remain ` +
          `(truncated or corrupt data)`,
      );
    }
  }

  /** One byte. */
  u8(): number {
    if (this.pos >= this.data.length) this.fail("unexpected end of data");
    return this.data[this.pos++];
  }

  /** Unsigned 16-bit little-endian. */
  u16le(): number {
    this.need(2);
    const v = this.#view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  /** Unsigned 16-bit big-endian. */
  u16be(): number {
    this.need(2);
    const v = this.#view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  /** Unsigned 32-bit little-endian. */
  u32le(): number {
    this.need(4);
    const v = this.#view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Unsigned 32-bit big-endian. */
  u32be(): number {
    this.need(4);
    const v = this.#view.getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  /** Signed 32-bit little-endian. */
  i32le(): number {
    this.need(4);
    const v = this.#view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit little-endian as a number (inexact above 2⁵³ — only used for lengths). */
  u64le(): number {
    this.need(8);
    const lo = this.#view.getUint32(this.pos, true);
    const hi = this.#view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** Unsigned 64-bit big-endian; a number when exact, else a bigint. */
  u64be(): number | bigint {
    this.need(8);
    const hi = this.#view.getUint32(this.pos, false);
    const lo = this.#view.getUint32(this.pos + 4, false);
    this.pos += 8;
    if (hi < 0x20_0000) return hi * 0x1_0000_0000 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Signed 64-bit big-endian; a number when exact, else a bigint. */
  i64be(): number | bigint {
    this.need(8);
    const hi = this.#view.getInt32(this.pos, false);
    const lo = this.#view.getUint32(this.pos + 4, false);
    // Within ±2⁵³ without a BigInt: hi in [-2²¹, 2²¹), and -2⁵³ itself is outside the range.
    if (hi >= -0x20_0000 && hi < 0x20_0000 && !(hi === -0x20_0000 && lo === 0)) {
      this.pos += 8;
      return hi * 0x1_0000_0000 + lo;
    }
    const v = this.#view.getBigInt64(this.pos, false);
    this.pos += 8;
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  }

  /** IEEE 754 single, big-endian. */
  f32be(): number {
    this.need(4);
    const v = this.#view.getFloat32(this.pos, false);
    this.pos += 4;
    return v;
  }

  /** IEEE 754 double, big-endian. */
  f64be(): number {
    this.need(8);
    const v = this.#view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A view (not a copy) of the next `n` bytes. */
  view(n: number, field = "byte string"): Uint8Array {
    this.need(n, field);
    const v = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next `n` bytes. */
  copy(n: number, field = "byte string"): Uint8Array {
    this.need(n, field);
    const v = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * The next `n` bytes decoded as UTF-8. `strict` rejects invalid UTF-8; otherwise bad sequences
   * (e.g. the lone surrogates Python's pickle writes with `surrogatepass`) become U+FFFD.
   */
  utf8(n: number, strict: boolean): string {
    this.need(n, "string");
    const data = this.data;
    const start = this.pos;
    this.pos += n;
    if (n <= MANUAL_ASCII_MAX) {
      let hash = n;
      for (let i = start; i < start + n; i++) {
        const c = data[i];
        if (c >= 0x80) return this.#decode(start, n, strict);
        hash = (Math.imul(hash, 31) + c) | 0;
      }
      if (n > CACHED_MAX) return ascii(data, start, n);
      const slot = (hash ^ (hash >>> 11)) & (STRING_CACHE_SIZE - 1);
      const cached = stringCache[slot];
      if (cached !== undefined && sameAscii(cached, data, start, n)) return cached;
      return stringCache[slot] = ascii(data, start, n);
    }
    return this.#decode(start, n, strict);
  }

  #decode(start: number, n: number, strict: boolean): string {
    const bytes = this.data.subarray(start, start + n);
    if (!strict) return lenientUtf8.decode(bytes);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      this.pos = start;
      return this.fail(`string of ${n} bytes is not valid UTF-8`);
    }
  }

  /** Bytes up to the next `\n` (consumed, not returned), one char per byte; for pickle text opcodes. */
  line(maxLength = 1 << 20): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail("text argument is not terminated by a newline");
    if (end - this.pos > maxLength) this.fail(`text argument longer than ${maxLength} bytes`);
    let s = "";
    for (let i = this.pos; i < end; i++) s += String.fromCharCode(this.data[i]);
    this.pos = end + 1;
    return s;
  }
}
