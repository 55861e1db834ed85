/**
 * Dask's message framing (`docs/wire-protocol.md`, "Framing"; upstream
 * `distributed/comm/tcp.py`): an 8-byte length of the first block, then the prelude (frame count
 * and frame lengths, u64 little-endian) and the frames back to back. The first length means "the
 * whole message" (before distributed 2023.11) or "the prelude plus the first whole frames"
 * (since); the reader accepts both and the writer sends one block, which every version reads.
 * @module
 */
import { ConnectionClosed, DecodeFailed, FrameTooLarge } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Default largest accepted message: 2 GiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 2 * 1024 ** 3;
/** Default largest accepted frame count in one message. */
export const DEFAULT_MAX_FRAMES = 1 << 20;

/** Frames below this size are copied into the header chunk to save write calls. */
const COALESCE_BELOW = 16 * 1024;
/** Size of the read-ahead buffer; larger reads go straight into their destination. */
const READ_BUFFER_SIZE = 64 * 1024;
/** Byte alignment of the largest frame of a message's first block (a float64 needs 8). */
const FRAME_ALIGNMENT = 8;
/** Frames after the first block smaller than this are read into a shared buffer… */
const SMALL_FRAME = 64 * 1024;
/** …of at most this size. */
const SMALL_RUN = 1024 * 1024;

/**
 * Lays out one message as chunks to write in order: the length, prelude and small frames joined
 * into as few chunks as possible, large frames passed through without copying.
 */
export function frameMessage(frames: readonly Uint8Array[]): Uint8Array[] {
  const n = frames.length;
  let payload = 0;
  for (const f of frames) payload += f.length;
  const headerSize = 8 * (2 + n);
  const total = headerSize - 8 + payload; // first u64 = everything after itself
  let joined = headerSize;
  for (const f of frames) if (f.length < COALESCE_BELOW) joined += f.length;
  const chunks: Uint8Array[] = [];
  let head = new Uint8Array(joined);
  const view = new DataView(head.buffer);
  view.setBigUint64(0, BigInt(total), true);
  view.setBigUint64(8, BigInt(n), true);
  for (let i = 0; i < n; i++) view.setBigUint64(16 + 8 * i, BigInt(frames[i].length), true);
  let at = headerSize;
  for (const f of frames) {
    if (f.length < COALESCE_BELOW) {
      head.set(f, at);
      at += f.length;
      continue;
    }
    chunks.push(head.subarray(0, at));
    chunks.push(f);
    head = head.subarray(at);
    at = 0;
  }
  if (at > 0 || chunks.length === 0) chunks.push(head.subarray(0, at));
  return chunks;
}

/** Limits applied by {@link FrameReader} before any buffer is allocated. */
export interface FrameReaderOptions {
  /** Largest accepted message in bytes (prelude plus frames). Default 2 GiB. */
  readonly maxMessageSize?: number;
  /** Largest accepted number of frames in one message. Default 1 048 576. */
  readonly maxFrames?: number;
}

/** Reads framed messages from a transport; one `readMessage` call at a time. */
export class FrameReader {
  readonly #transport: Transport;
  readonly #maxMessageSize: number;
  readonly #maxFrames: number;
  #buf = new Uint8Array(READ_BUFFER_SIZE);
  #start = 0;
  #end = 0;

  constructor(transport: Transport, options: FrameReaderOptions = {}) {
    this.#transport = transport;
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#maxFrames = options.maxFrames ?? DEFAULT_MAX_FRAMES;
  }

  /**
   * Reads the next message and returns its frames, or `null` if the peer closed the connection
   * between messages.
   *
   * @throws {FrameTooLarge} when the message announces more than `maxMessageSize` bytes.
   * @throws {DecodeFailed} for an inconsistent prelude.
   * @throws {ConnectionClosed} when the connection ends inside a message.
   */
  async readMessage(): Promise<Uint8Array[] | null> {
    // The length and the prelude are read where they were buffered, and what is buffered
    // already is taken without waiting: a stream of small messages allocates little per message.
    const started = this.#fill(8, true);
    if (started !== true && !(await started)) return null;
    const blockLen = this.#u64(this.#buf, this.#start, "first block length", true);
    if (blockLen > this.#maxMessageSize) {
      throw new FrameTooLarge(blockLen, this.#maxMessageSize, undefined, this.#head());
    }
    if (blockLen < 8) {
      throw new DecodeFailed(`first block of ${blockLen} bytes cannot hold the frame count`);
    }
    this.#start += 8;
    const counted = this.#fill(8);
    if (counted !== true) await counted;
    const nFrames = this.#u64(this.#buf, this.#start, "frame count");
    if (nFrames > this.#maxFrames) {
      throw new DecodeFailed(
        `message announces ${nFrames} frames, more than the limit of ${this.#maxFrames}`,
      );
    }
    const preludeLen = 8 * (1 + nFrames);
    if (preludeLen > blockLen) {
      throw new DecodeFailed(
        `first block of ${blockLen} bytes is shorter than its prelude (${nFrames} frames)`,
      );
    }
    // The prelude is validated before the rest of the block is allocated.
    let prelude: Uint8Array;
    let at0: number;
    if (preludeLen <= READ_BUFFER_SIZE) {
      const filled = this.#fill(preludeLen);
      if (filled !== true) await filled;
      prelude = this.#buf;
      at0 = this.#start;
      this.#start += preludeLen;
    } else {
      prelude = await this.#readExact(preludeLen);
      at0 = 0;
    }
    const lengths = new Array<number>(nFrames);
    let total = preludeLen;
    for (let i = 0; i < nFrames; i++) {
      lengths[i] = this.#u64(prelude, at0 + 8 * (1 + i), "frame length");
      total += lengths[i];
      if (total > this.#maxMessageSize) throw new FrameTooLarge(total, this.#maxMessageSize);
    }
    const frames: Uint8Array[] = new Array(nFrames);
    const inBlock = blockLen - preludeLen;
    // Which frames the block holds is known before it is read; its largest frame (the first of
    // equals: the first shard of a sharded array) is placed on an aligned offset, so that numpy
    // data — and shards joined as one view — can be used in place.
    let inBlockFrames = 0;
    let at = 0;
    let largest = -1;
    let largestAt = 0;
    while (inBlockFrames < nFrames && at + lengths[inBlockFrames] <= inBlock) {
      if (lengths[inBlockFrames] > largest) {
        largest = lengths[inBlockFrames];
        largestAt = at;
      }
      at += lengths[inBlockFrames++];
    }
    if (at !== inBlock) {
      throw new DecodeFailed(`first block of ${blockLen} bytes does not end on a frame boundary`);
    }
    if (inBlock > 0) {
      const pad = (FRAME_ALIGNMENT - (largestAt % FRAME_ALIGNMENT)) % FRAME_ALIGNMENT;
      const block = new Uint8Array(new ArrayBuffer(pad + inBlock), pad, inBlock);
      const reading = this.#readInto(block);
      if (reading) await reading;
      at = 0;
      for (let i = 0; i < inBlockFrames; i++) {
        frames[i] = block.subarray(at, at + lengths[i]);
        at += lengths[i];
      }
    } else {
      for (let i = 0; i < inBlockFrames; i++) frames[i] = new Uint8Array(0);
    }
    // Frames after the first block (distributed 2023.11 and newer send them one by one): each
    // large frame in a buffer of its own, as before; a run of small ones (a reply of many small
    // values) in one shared buffer rather than one buffer each.
    for (let i = inBlockFrames; i < nFrames;) {
      if (lengths[i] >= SMALL_FRAME) {
        frames[i] = await this.#readExact(lengths[i]);
        i++;
        continue;
      }
      let end = i;
      let size = 0;
      while (end < nFrames && lengths[end] < SMALL_FRAME && size + lengths[end] <= SMALL_RUN) {
        size += lengths[end++];
      }
      const run = new Uint8Array(size);
      const reading = this.#readInto(run);
      if (reading) await reading;
      for (let at = 0; i < end; i++) {
        frames[i] = run.subarray(at, at + lengths[i]);
        at += lengths[i];
      }
    }
    return frames;
  }

  /** The 8 bytes at the read position (a message's first length), for errors. */
  #head(): Uint8Array {
    return this.#buf.slice(this.#start, this.#start + 8);
  }

  #u64(bytes: Uint8Array, at: number, what: string, first = false): number {
    // Read without a DataView or a BigInt: a reply of many values has one length per frame.
    const lo = u32le(bytes, at);
    const hi = u32le(bytes, at + 4);
    if (hi >= 0x20_0000) {
      const value = (BigInt(hi) << 32n) | BigInt(lo);
      if (what === "frame count") {
        throw new DecodeFailed(`message announces ${value} frames, more than the limit`);
      }
      throw new FrameTooLarge(
        Number(value),
        this.#maxMessageSize,
        undefined,
        first ? this.#head() : undefined,
      );
    }
    return hi * 0x1_0000_0000 + lo;
  }

  /**
   * Buffers at least `n` (≤ buffer size) bytes; throws if the stream ends first — or, with
   * `eofOk`, returns `false` if it ends before any byte.
   */
  #fill(n: number, eofOk = false): true | Promise<boolean> {
    if (this.#end - this.#start >= n) return true;
    return this.#fillMore(n, eofOk);
  }

  async #fillMore(n: number, eofOk: boolean): Promise<boolean> {
    if (this.#buf.length - this.#start < n) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < n) {
      const got = await this.#transport.read(this.#buf.subarray(this.#end));
      if (got === null) {
        if (eofOk && this.#end === this.#start) return false;
        throw this.#truncated();
      }
      this.#end += got;
    }
    return true;
  }

  /** Reads exactly `n` bytes into a fresh buffer; throws if the stream ends first. */
  async #readExact(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    const reading = this.#readInto(out);
    if (reading) await reading;
    return out;
  }

  /**
   * Fills `out`; throws if the stream ends first. Returns nothing when the bytes were buffered
   * already (no promise to wait for), else a promise.
   */
  #readInto(out: Uint8Array): Promise<void> | undefined {
    const n = out.length;
    if (this.#end - this.#start >= n) {
      const buf = this.#buf;
      const start = this.#start;
      if (n <= 64) { for (let i = 0; i < n; i++) out[i] = buf[start + i]; }
      else out.set(buf.subarray(start, start + n));
      this.#start += n;
      return undefined;
    }
    return this.#readIntoMore(out);
  }

  async #readIntoMore(out: Uint8Array): Promise<void> {
    const n = out.length;
    let have = Math.min(n, this.#end - this.#start);
    out.set(this.#buf.subarray(this.#start, this.#start + have));
    this.#start += have;
    while (have < n) {
      const want = n - have;
      if (want >= READ_BUFFER_SIZE) {
        // Large remainders go straight into their destination: one copy from the kernel (or
        // none in JavaScript, when the transport can receive in place).
        const rest = out.subarray(have);
        const got = this.#transport.readFull
          ? await this.#transport.readFull(rest)
          : await this.#transport.read(rest);
        if (got === null || (got < rest.length && this.#transport.readFull)) {
          throw this.#truncated();
        }
        have += got;
        continue;
      }
      this.#start = this.#end = 0;
      const got = await this.#transport.read(this.#buf);
      if (got === null) throw this.#truncated();
      this.#end = got;
      const take = Math.min(want, got);
      out.set(this.#buf.subarray(0, take), have);
      this.#start = take;
      have += take;
    }
  }

  #truncated(): ConnectionClosed {
    return new ConnectionClosed(
      `connection to ${this.#transport.peer} closed in the middle of a message`,
    );
  }
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24) >>> 0;
}
