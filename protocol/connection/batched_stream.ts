/**
 * The client side of a Dask batched stream (`distributed.batched.BatchedSend`): small operations
 * are collected for a short interval and written as one msgpack array of maps.
 * @module
 */
import type { Comm } from "./comm.ts";
import { encodeMessage } from "../codec/message.ts";

/** A stream operation: a map with an `op` field. */
export type StreamOp = { op: string; [field: string]: unknown };

/** Batches operations onto a comm. Write failures go to `onError`. */
export class BatchedStream {
  #buffer: StreamOp[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #batch = 0;

  constructor(
    private readonly comm: Comm,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues an operation; it is written within `intervalMs` together with its neighbours. */
  send(op: StreamOp): void {
    if (this.#closed) return;
    this.#buffer.push(op);
    this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  /**
   * Which batch {@link send} fills now: it changes when the queued operations are written, so an
   * operation queued in the same batch may still be extended (e.g. by more keys).
   */
  get batch(): number {
    return this.#batch;
  }

  /**
   * Encodes `op` now (encoding errors throw to the caller and nothing is sent), then writes the
   * queued operations and `op`, in that order.
   */
  sendNow(op: StreamOp): Promise<void> {
    const frames = encodeMessage([op]);
    this.#flush();
    return this.comm.sendFrames(frames).catch((e) => {
      this.onError(e);
      throw e;
    });
  }

  /** Writes what is queued, then `final` ops, and stops batching. */
  async close(final: StreamOp[] = []): Promise<void> {
    if (this.#closed) return;
    this.#buffer.push(...final);
    this.#closed = true;
    await this.#flush();
  }

  #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0 || this.comm.closed) return Promise.resolve();
    const batch = this.#buffer;
    this.#buffer = [];
    this.#batch++;
    return this.comm.send(batch).catch(this.onError);
  }
}
