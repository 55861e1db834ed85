/**
 * SHA-1 in TypeScript, synchronous, for the deterministic task keys the graph builder makes
 * (as Dask's `tokenize` does): `node:crypto` would make every program pay for Node
 * compatibility at start-up, and WebCrypto's digest is asynchronous. Not for security.
 * @module
 */

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Hex SHA-1 digest (40 characters) of `data`; a string is hashed as its UTF-8 bytes. */
export function sha1Hex(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const h = new Int32Array([
    0x67452301,
    0xefcdab89 | 0,
    0x98badcfe | 0,
    0x10325476,
    0xc3d2e1f0 | 0,
  ]);
  const w = new Int32Array(80);
  const full = bytes.length - (bytes.length % 64);
  for (let at = 0; at < full; at += 64) block(h, w, bytes, at);
  // Padding: the rest, 0x80, zeros, then the length in bits (big-endian, 64 bits).
  const tail = new Uint8Array(bytes.length % 64 < 56 ? 64 : 128);
  tail.set(bytes.subarray(full));
  tail[bytes.length - full] = 0x80;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(tail.length - 4, (bytes.length * 8) >>> 0);
  for (let at = 0; at < tail.length; at += 64) block(h, w, tail, at);
  let out = "";
  for (const word of h) {
    out += HEX[word >>> 24] + HEX[(word >>> 16) & 0xff] + HEX[(word >>> 8) & 0xff] +
      HEX[word & 0xff];
  }
  return out;
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
