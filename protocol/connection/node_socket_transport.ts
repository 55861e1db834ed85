/**
 * {@link Transport} over a `node:tls` socket — the only way in Deno to combine a custom SNI name
 * with a client certificate (dask-gateway) and to trust exactly one CA (Dask `tls://`).
 *
 * Reads use the socket's `onread` option rather than `data` events: the TLS layer decrypts
 * straight into a buffer we choose, so a {@link Transport.readFull} (a large frame) receives
 * into its destination with no copy in JavaScript, and nothing is allocated per chunk. Data
 * that arrives while no `readFull` is waiting lands in a small staging buffer and is queued.
 * Writes are cut into slices, because `node:tls` encrypts a whole chunk at once: one 256 MiB
 * write would hold another 256 MiB of ciphertext.
 *
 * Deno's `node:tls` hands each read of ciphertext from its TCP handle to JavaScript as a new
 * buffer that only garbage collection frees: a 256 MiB download left ~170 MiB of them behind.
 * {@link reuseCiphertextBuffer} makes that handle read into one buffer instead, and pausing
 * stops that handle too, so that back-pressure reaches the peer.
 * @module
 */
import type { TLSSocket } from "node:tls";
import { ConnectionClosed } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Received bytes queued before the socket is paused (back-pressure towards the peer). */
const HIGH_WATER = 8 * 1024 * 1024;
/** Size of the staging buffer for data nobody waits for yet (one TLS read is at most 64 KiB). */
const STAGING_SIZE = 64 * 1024;
/** Largest slice handed to the TLS layer per write call. */
const WRITE_SLICE = 1024 * 1024;
/** Size of the reused ciphertext buffer: the most one read of the TCP socket takes. */
const CIPHERTEXT_READ_SIZE = 256 * 1024;

/** The `onread` option of `tls.connect` (typed here: `@types/node` lacks it on TLS options). */
export interface OnReadOption {
  /** Called before each read for the buffer the next decrypted bytes go into. */
  readonly buffer: () => Uint8Array;
  /** Called with the number of bytes placed in `buf`; `false` pauses the socket. */
  readonly callback: (nread: number, buf: Uint8Array) => boolean;
}

/** A `readFull` in progress: bytes go straight into `into` until it is full. */
interface Fill {
  readonly into: Uint8Array;
  have: number;
  readonly done: (filled: number) => void;
}

/**
 * Receives a socket's decrypted bytes through `onread`. Create it before `tls.connect` (pass
 * {@link onread} there), so that nothing sent right after the handshake is missed.
 */
export class NodeSocketReceiver {
  /** Pass as `onread` to `tls.connect`. */
  readonly onread: OnReadOption;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #staging = new Uint8Array(STAGING_SIZE);
  #fill: Fill | undefined;
  #wake: (() => void) | undefined;
  #paused = false;
  #pause: (() => void) | undefined;
  #resume: (() => void) | undefined;

  constructor() {
    this.onread = {
      buffer: () => this.#fill ? this.#fill.into.subarray(this.#fill.have) : this.#staging,
      callback: (nread, buf) => this.#received(nread, buf),
    };
  }

  /** Whether received bytes wait to be taken. */
  get pending(): boolean {
    return this.#queue.length > 0;
  }

  /** Copies queued bytes into `into`; returns the count (0 if nothing is queued). */
  take(into: Uint8Array): number {
    const n = this.#dequeue(into);
    if (this.#paused && this.#queued < HIGH_WATER) {
      this.#paused = false;
      // Not now: restarting may hand over bytes the TLS layer decrypted while paused at once,
      // and they must not overtake a fill the caller is about to begin.
      queueMicrotask(() => this.#paused || this.#resume?.());
    }
    return n;
  }

  #dequeue(into: Uint8Array): number {
    let n = 0;
    while (n < into.length && this.#queue.length > 0) {
      const head = this.#queue[0];
      const take = Math.min(head.length, into.length - n);
      into.set(take === head.length ? head : head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(take);
    }
    this.#queued -= n;
    return n;
  }

  /**
   * Receives straight into `into` from `have` on; `done` gets the final count when it is full
   * or {@link stop} is called. Queued bytes must have been taken first.
   */
  fill(into: Uint8Array, have: number, done: (filled: number) => void): void {
    this.#fill = { into, have, done };
  }

  /** Ends a waiting fill with what it has (the stream ended or failed). */
  stop(): void {
    const fill = this.#fill;
    this.#fill = undefined;
    fill?.done(fill.have);
    this.#notify();
  }

  /** Resolves at the next arrival of data (or {@link stop}). */
  waitForData(): Promise<void> {
    return new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** How to stop and restart the socket for back-pressure. */
  onPressure(pause: () => void, resume: () => void): void {
    this.#pause = pause;
    this.#resume = resume;
  }

  #received(nread: number, buf: Uint8Array): boolean {
    if (nread <= 0) return true;
    const fill = this.#fill;
    if (buf !== this.#staging) {
      // Decrypted in place into the fill's destination (unless the fill was stopped meanwhile,
      // which only happens when the connection is finished).
      if (!fill) return true;
      fill.have += nread;
    } else {
      let used = 0;
      if (fill && this.#queue.length > 0) fill.have += this.#dequeue(fill.into.subarray(fill.have));
      if (fill) {
        // The staging buffer was armed before this fill began: copy what fits.
        used = Math.min(nread, fill.into.length - fill.have);
        fill.into.set(buf.subarray(0, used), fill.have);
        fill.have += used;
      }
      if (used < nread) {
        this.#queue.push(buf.slice(used, nread));
        this.#queued += nread - used;
      }
    }
    if (fill && fill.have === fill.into.length) {
      this.#fill = undefined;
      fill.done(fill.have);
    }
    this.#notify();
    if (this.#queued >= HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#pause?.();
    }
    return !this.#paused;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * The native TCP handle under a Deno `node:tls` socket (`socket._handle._nativeTcpHandle`, see
 * Deno's ext/node/polyfills/internal_binding/tls_wrap.ts): its `onread` passes each ciphertext
 * read to the TLS layer, which copies it at once (`TLSWrap.receive`, ext/node/ops/tls_wrap.rs).
 */
export interface NativeTcpHandle {
  /** Called per read with the bytes, or with none when they went into the user buffer. */
  onread: (this: unknown, buf?: ArrayBuffer | Uint8Array) => unknown;
  /** Makes the following reads land in `buffer`. */
  useUserBuffer: (buffer: Uint8Array) => void;
  /** Starts reading the socket (taking `onread` anew); returns a libuv status. */
  readStart: () => number;
  /** Stops reading the socket; returns a libuv status. */
  readStop: () => number;
}

/**
 * Deno releases whose `node:tls` internals {@link reuseCiphertextBuffer} was verified against.
 * Reusing the buffer is only correct while the TLS layer copies each read at once; a release
 * that kept a reference instead would corrupt data, so others keep Deno's own reads (more
 * memory, always correct) until checked (connect_test.ts checks the pinned release).
 */
export const CIPHERTEXT_REUSE_VERIFIED = /^2\.9\./;

/**
 * The native TCP handle of a connected socket; `undefined` on a runtime without it (Node) and
 * on Deno releases not verified ({@link CIPHERTEXT_REUSE_VERIFIED}).
 */
export function nativeTcpHandle(socket: TLSSocket): NativeTcpHandle | undefined {
  if (!CIPHERTEXT_REUSE_VERIFIED.test(Deno.version.deno)) return undefined;
  const tcp = (socket as unknown as { _handle?: { _nativeTcpHandle?: Partial<NativeTcpHandle> } })
    ._handle?._nativeTcpHandle;
  const usable = typeof tcp?.onread === "function" && typeof tcp.useUserBuffer === "function" &&
    typeof tcp.readStart === "function" && typeof tcp.readStop === "function";
  return usable ? tcp as NativeTcpHandle : undefined;
}

/**
 * Makes the TCP handle read ciphertext into one reused buffer rather than a new one per read,
 * so that receiving leaves no garbage behind. The handle then reads into a user buffer (as for
 * the `onread` option, ext/node/ops/stream_wrap.ts) and calls `onread` without the bytes, so
 * `onread` is wrapped to pass that buffer on; this relies on the TLS layer copying them at once.
 */
export function reuseCiphertextBuffer(tcp: NativeTcpHandle): void {
  const buffer = new Uint8Array(CIPHERTEXT_READ_SIZE);
  const forward = tcp.onread;
  // `buf` is absent for reads into the user buffer (and at the end, where it is ignored).
  tcp.onread = function (buf) {
    return forward.call(this, buf ?? buffer);
  };
  tcp.useUserBuffer(buffer);
  // The handle took its `onread` when reading started: restart to make it take the wrapper.
  tcp.readStop();
  tcp.readStart();
}

/** Wraps a connected `node:tls` socket (after `secureConnect`) and its receiver. */
export class NodeSocketTransport implements Transport {
  #ended = false;
  #error: unknown = undefined;
  #closed = false;
  readonly #receiver: NodeSocketReceiver;

  constructor(
    readonly peer: string,
    private readonly socket: TLSSocket,
    receiver: NodeSocketReceiver,
  ) {
    this.#receiver = receiver;
    const tcp = nativeTcpHandle(socket);
    if (tcp) reuseCiphertextBuffer(tcp);
    // pause() also marks the stream as not flowing, so that resume() restarts reading. It only
    // stops decrypted bytes reaching us: Deno's TLS layer keeps reading the TCP socket (and
    // buffering) unless the TCP handle is stopped as well.
    receiver.onPressure(
      () => {
        socket.pause();
        tcp?.readStop();
      },
      () => {
        if (socket.destroyed) return;
        tcp?.readStart();
        socket.resume();
      },
    );
    const finish = () => {
      this.#ended = true;
      receiver.stop();
    };
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", (e: unknown) => {
      this.#error ??= e;
      receiver.stop();
    });
  }

  async read(into: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw this.#closedError();
      if (this.#receiver.pending) return this.#receiver.take(into);
      if (this.#error !== undefined) throw this.#closedError(this.#error);
      if (this.#ended) return null;
      await this.#receiver.waitForData();
    }
  }

  async readFull(into: Uint8Array): Promise<number> {
    if (this.#closed) throw this.#closedError();
    const have = this.#receiver.take(into);
    if (have === into.length) return have;
    if (this.#error !== undefined) throw this.#closedError(this.#error);
    if (this.#ended) return have;
    const filled = await new Promise<number>((resolve) => this.#receiver.fill(into, have, resolve));
    if (this.#closed) throw this.#closedError();
    if (filled < into.length && this.#error !== undefined) throw this.#closedError(this.#error);
    return filled;
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length; at += WRITE_SLICE) {
        if (this.#closed || this.#error !== undefined || this.socket.destroyed) {
          throw this.#closedError(this.#error);
        }
        const flushed = this.socket.write(chunk.subarray(at, at + WRITE_SLICE));
        if (!flushed) await this.#drained();
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.#receiver.stop();
  }

  #drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        if (this.#closed || this.#error !== undefined || this.socket.destroyed) {
          reject(this.#closedError(this.#error));
        } else resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  #closedError(cause?: unknown): ConnectionClosed {
    const why = this.#closed
      ? "it was closed"
      : cause !== undefined
      ? `of a network error (${cause instanceof Error ? cause.message : String(cause)})`
      : "the peer closed it";
    return new ConnectionClosed(`connection to ${this.peer} is unusable because ${why}`, {
      cause,
    });
  }
}
