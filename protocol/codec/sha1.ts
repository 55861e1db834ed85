/**
 * SHA-1 in TypeScript, synchronous, for the deterministic task keys the graph builder makes
 * (as Dask's `tokenize` does): `node:crypto` would make every program pay for Node
 * compatibility at start-up, and WebCrypto's digest is asynchronous. Not for security.
 * @module
 */

const encoder = new TextEncoder();
const HEX_DIGITS = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
/** State, schedule and UTF-8 scratch, reused by every call: hashing allocates only its result. */
const H = new Int32Array(5);
const W = new Int32Array(80);
const TAIL = new Uint8Array(128);
const TAIL_VIEW = new DataView(TAIL.buffer);
let scratch = new Uint8Array(1024);
/**
 * Character codes of the result (prefix and hex digest), made into one string at the end: one
 * reused array per length (resizing an array allocates).
 */
const outOfLength: number[][] = [];

/**
 * Hex SHA-1 digest (40 characters) of `data`; a string is hashed as its UTF-8 bytes. With
 * `prefix`, the result is `prefix` followed by the first `hexChars` digits, made as one flat
 * string (a task key such as `neg-…` then costs one string, not a joined and a sliced one).
 */
export function sha1Hex(data: string | Uint8Array, prefix = "", hexChars = 40): string {
  if (typeof data === "string") {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (scratch.length < data.length * 3) scratch = new Uint8Array(data.length * 3);
    digest(scratch, encoder.encodeInto(data, scratch).written);
  } else {
    digest(data, data.length);
  }
  const n = Math.min(40, Math.max(0, hexChars));
  // A long prefix (no task name is) is joined as a string rather than made from codes.
  const head = prefix.length > 64 ? "" : prefix;
  const length = head.length + n;
  const out = outOfLength[length] ??= new Array(length).fill(0);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  for (let i = 0; i < n; i++) {
    out[head.length + i] = HEX_DIGITS[(H[i >> 3] >>> (28 - 4 * (i & 7))) & 0xf];
  }
  const text = String.fromCharCode.apply(null, out);
  return head === prefix ? text : prefix + text;
}

/** Hashes the first `length` bytes of `bytes` into {@link H}. */
function digest(bytes: Uint8Array, length: number): void {
  H[0] = 0x67452301;
  H[1] = 0xefcdab89 | 0;
  H[2] = 0x98badcfe | 0;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0 | 0;
  const full = length - (length % 64);
  for (let at = 0; at < full; at += 64) block(H, W, bytes, at);
  // Padding: the rest, 0x80, zeros, then the length in bits (big-endian, 64 bits).
  const tailLength = length % 64 < 56 ? 64 : 128;
  TAIL.fill(0, 0, tailLength);
  for (let i = full; i < length; i++) TAIL[i - full] = bytes[i];
  TAIL[length - full] = 0x80;
  TAIL_VIEW.setUint32(tailLength - 8, Math.floor(length / 0x20000000));
  TAIL_VIEW.setUint32(tailLength - 4, (length * 8) >>> 0);
  for (let at = 0; at < tailLength; at += 64) block(H, W, TAIL, at);
}

function block(h: Int32Array, w: Int32Array, b: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) {
    w[i] = (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
  // Four rounds of twenty steps; branch-free inner loops keep V8 on small-integer arithmetic.
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w[i]) | 0;
    e = d, d = c, c = (bb << 30) | (bb >>> 2), bb = a, a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w[i]) | 0;
    e = d, d = c, c = (bb << 30) | (bb >>> 2), bb = a, a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e + 0x8f1bbcdc +
      w[i]) | 0;
    e = d, d = c, c = (bb << 30) | (bb >>> 2), bb = a, a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0xca62c1d6 + w[i]) | 0;
    e = d, d = c, c = (bb << 30) | (bb >>> 2), bb = a, a = t;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + bb) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
}
