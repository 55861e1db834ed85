/**
 * Decompression of distributed's compressed frames (`docs/wire-protocol.md`, "Compression"): the
 * LZ4 block format with a 4-byte size prefix that `lz4.block.compress(store_size=True)` writes,
 * zlib, and uncompressed. Frames can arrive compressed even after negotiating no compression
 * (the scheduler forwards worker frames untouched), so the reader must always handle them.
 *
 * zlib comes from `node:zlib`, loaded only by {@link loadZlib} when the first zlib frame arrives:
 * Node compatibility costs tens of ms at start-up, and distributed compresses with zlib only
 * where a cluster's configuration says so (`distributed.comm.compression: zlib`).
 * @module
 */

import { DecodeFailed, ZlibNotLoaded } from "../errors.ts";
import { showValue } from "./show_value.ts";

let inflateSync: typeof import("node:zlib").inflateSync | undefined;
let zlibLoading: Promise<void> | undefined;

/**
 * Throws {@link ZlibNotLoaded} if a header's `compression` list names zlib while zlib is
 * not loaded: frames kept for later decoding must be decodable then, synchronously.
 */
export function assertCodecsLoaded(codecs: unknown): void {
  if (!inflateSync && Array.isArray(codecs) && codecs.includes("zlib")) {
    throw new ZlibNotLoaded();
  }
}

/** Loads the zlib codec (once); {@link decompressFrame} handles zlib frames after it. */
export function loadZlib(): Promise<void> {
  return zlibLoading ??= import("node:zlib").then((zlib) => {
    inflateSync = zlib.inflateSync;
  });
}

/** Default limit on the decompressed size of one frame: distributed compresses frames ≤ 2 GiB. */
export const DEFAULT_MAX_DECOMPRESSED = 2 ** 31;

/** Options of {@link lz4BlockDecompress} and {@link decompressFrame}. */
export interface DecompressOptions {
  /** Largest decompressed size accepted; checked before allocating. Default 2 GiB. */
  maxOutput?: number;
}

/**
 * Decompresses `[uncompressed size: u32 LE][raw LZ4 block]`.
 * @throws {DecodeFailed} when the size exceeds `maxOutput`, the block is malformed (bad offset,
 *   overrun) or does not produce exactly the announced size.
 */
export function lz4BlockDecompress(input: Uint8Array, options: DecompressOptions = {}): Uint8Array {
  const maxOutput = options.maxOutput ?? DEFAULT_MAX_DECOMPRESSED;
  const fail = (msg: string): never => {
    throw new DecodeFailed(`invalid lz4 frame: ${msg}`);
  };
  if (input.length < 4) fail(`${input.length} bytes is shorter than the 4-byte size prefix`);
  const size = (input[0] | (input[1] << 8) | (input[2] << 16) | (input[3] << 24)) >>> 0;
  if (size > maxOutput) {
    fail(`announces ${size} bytes, more than the limit of ${maxOutput} (maxOutput)`);
  }
  const out = new Uint8Array(size);
  let ip = 4;
  let op = 0;
  const end = input.length;
  while (ip < end) {
    const token = input[ip++];
    // Literals.
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= end) fail("literal length runs past the end of input");
        b = input[ip++];
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > end) fail(`literal run of ${lit} bytes runs past the end of input`);
    if (op + lit > size) fail(`output exceeds the announced ${size} bytes`);
    out.set(input.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip === end) break; // the last sequence has literals only
    // Match.
    if (ip + 2 > end) fail("match offset runs past the end of input");
    const offset = input[ip] | (input[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) fail(`match offset ${offset} at output byte ${op} is invalid`);
    let len = (token & 0x0f) + 4;
    if ((token & 0x0f) === 15) {
      let b: number;
      do {
        if (ip >= end) fail("match length runs past the end of input");
        b = input[ip++];
        len += b;
      } while (b === 255);
    }
    if (op + len > size) fail(`output exceeds the announced ${size} bytes`);
    let from = op - offset;
    if (offset >= len) {
      out.copyWithin(op, from, from + len);
      op += len;
    } else {
      // Overlapping match: repeats the last `offset` bytes.
      for (let i = 0; i < len; i++) out[op++] = out[from++];
    }
  }
  if (op !== size) fail(`decompressed to ${op} bytes, but the prefix announces ${size}`);
  return out;
}

/**
 * Decompresses one wire frame by the codec name distributed put in the header's `compression`
 * list: `"lz4"`, `"zlib"` (once {@link loadZlib} has run), or `null`/`false`/`undefined`
 * (returned as is).
 * @throws {DecodeFailed} for other codecs (`zstd`, `snappy`, …), naming the codec, and for
 *   corrupt or oversized data.
 */
export function decompressFrame(
  name: unknown,
  frame: Uint8Array,
  options: DecompressOptions = {},
): Uint8Array {
  if (name === null || name === false || name === undefined) return frame;
  if (name === "lz4") return lz4BlockDecompress(frame, options);
  if (name === "zlib") {
    if (!inflateSync) throw new ZlibNotLoaded();
    const maxOutputLength = options.maxOutput ?? DEFAULT_MAX_DECOMPRESSED;
    try {
      const out = inflateSync(frame, { maxOutputLength });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new DecodeFailed(
        `invalid zlib frame (or larger than ${maxOutputLength} bytes): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  throw new DecodeFailed(
    `frame compressed with ${showValue(name)}, which this client cannot decompress ` +
      `(supported: lz4, zlib); set distributed.comm.compression to lz4 or None on the cluster`,
  );
}
