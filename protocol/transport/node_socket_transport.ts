/**
 * {@link Transport} over a `node:tls` socket — the only way in Deno to combine a custom SNI name
 * with a client certificate (dask-gateway) and to trust exactly one CA (Dask `tls://`).
 * @module
 */
import type { TLSSocket } from "node:tls";
import { ConnectionClosedError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Received bytes buffered before the socket is paused (back-pressure towards the peer). */
const HIGH_WATER = 8 * 1024 * 1024;

/** Wraps a connected `node:tls` socket (after `secureConnect`). */
export class NodeSocketTransport implements Transport {
  #queue: Uint8Array[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown = undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(readonly peer: string, private readonly socket: TLSSocket) {
    socket.on("data", (chunk: Uint8Array) => {
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued >= HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (e: unknown) => {
      this.#error ??= e;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  async read(into: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw this.#closedError();
      if (this.#queue.length > 0) return this.#take(into);
      if (this.#error !== undefined) throw this.#closedError(this.#error);
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      if (this.#closed || this.#error !== undefined || this.socket.destroyed) {
        throw this.#closedError(this.#error);
      }
      if (chunk.length === 0) continue;
      const flushed = this.socket.write(chunk);
      if (!flushed) await this.#drained();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
    this.#notify();
  }

  #take(into: Uint8Array): number {
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
    if (this.#queued < HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    return n;
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

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #closedError(cause?: unknown): ConnectionClosedError {
    const why = this.#closed
      ? "it was closed"
      : cause !== undefined
      ? `of a network error (${cause instanceof Error ? cause.message : String(cause)})`
      : "the peer closed it";
    return new ConnectionClosedError(`connection to ${this.peer} is unusable because ${why}`, {
      cause,
    });
  }
}
