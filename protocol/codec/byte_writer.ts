/**
 * A growable output buffer for the pickle and msgpack encoders: writes go straight into one
 * `Uint8Array` that doubles when full, so encoding large graphs costs no per-byte array pushes.
 * @module
 */

const textEncoder = new TextEncoder();

/** Strings shorter than this are UTF-8 encoded by hand; longer ones use `TextEncoder.encodeInto`. */
const MANUAL_UTF8_MAX = 64;

/** Appends bytes to a buffer that grows as needed; {@link ByteWriter.finish} returns the bytes. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Number of bytes written so far. */
  pos = 0;

  /**
   * An empty writer.
   * @param initialSize first buffer size in bytes; it doubles whenever a write does not fit.
   */
  constructor(initialSize = 1024) {
    this.#buf = new Uint8Array(Math.max(16, initialSize));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** One byte. */
  u8(v: number): void {
    this.ensure(1);
    this.#buf[this.pos++] = v;
  }

  /** Two bytes (an opcode and its one-byte argument) with one bounds check. */
  u8x2(a: number, b: number): void {
    this.ensure(2);
    this.#buf[this.pos++] = a;
    this.#buf[this.pos++] = b;
  }

  /** Unsigned 16-bit, little-endian. */
  u16le(v: number): void {
    this.ensure(2);
    this.#view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  /** Unsigned 16-bit, big-endian. */
  u16be(v: number): void {
    this.ensure(2);
    this.#view.setUint16(this.pos, v, false);
    this.pos += 2;
  }

  /** Unsigned 32-bit, little-endian. */
  u32le(v: number): void {
    this.ensure(4);
    this.#view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** Unsigned 32-bit, big-endian. */
  u32be(v: number): void {
    this.ensure(4);
    this.#view.setUint32(this.pos, v, false);
    this.pos += 4;
  }

  /** Signed 32-bit, little-endian. */
  i32le(v: number): void {
    this.ensure(4);
    this.#view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  /** Unsigned 64-bit, little-endian, from a non-negative safe integer. */
  u64le(v: number): void {
    this.ensure(8);
    this.#view.setUint32(this.pos, v % 0x1_0000_0000, true);
    this.#view.setUint32(this.pos + 4, Math.floor(v / 0x1_0000_0000), true);
    this.pos += 8;
  }

  /** Unsigned 64-bit, big-endian. */
  u64be(v: bigint): void {
    this.ensure(8);
    this.#view.setBigUint64(this.pos, v, false);
    this.pos += 8;
  }

  /** Signed 64-bit, big-endian. */
  i64be(v: bigint): void {
    this.ensure(8);
    this.#view.setBigInt64(this.pos, v, false);
    this.pos += 8;
  }

  /** IEEE 754 double, big-endian. */
  f64be(v: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.pos, v, false);
    this.pos += 8;
  }

  /** Raw bytes, copied. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.#buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * The string's UTF-8 bytes; `byteLength` must be {@link utf8Length}`(s)`. Lone surrogates
   * become U+FFFD, as with `TextEncoder`.
   */
  utf8(s: string, byteLength: number): void {
    this.ensure(byteLength);
    if (byteLength === s.length) {
      // Pure ASCII: one byte per code unit.
      const buf = this.#buf;
      let p = this.pos;
      for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
      return;
    }
    if (s.length >= MANUAL_UTF8_MAX) {
      this.pos += textEncoder.encodeInto(s, this.#buf.subarray(this.pos)).written;
      return;
    }
    const buf = this.#buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            buf[p++] = 0xf0 | (c >> 18);
            buf[p++] = 0x80 | ((c >> 12) & 0x3f);
            buf[p++] = 0x80 | ((c >> 6) & 0x3f);
            buf[p++] = 0x80 | (c & 0x3f);
            continue;
          }
          c = 0xfffd;
        }
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
    this.pos = p;
  }

  /** The bytes written so far (a view of the internal buffer; do not write afterwards). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.pos);
  }
}

/** Number of bytes of `s` in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // surrogate pair: 2 code units, 4 bytes
        i++;
      } else {
        n += 2;
      }
    } else {
      n += 2;
    }
  }
  return n;
}
