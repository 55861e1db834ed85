/**
 * Request/reply calls to a Dask server over a small pool of comms: each comm carries one request
 * at a time (as `distributed.core.rpc` does), so concurrency comes from several comms (see
 * `docs/wire-protocol.md`, "RPC").
 * @module
 */
import { withTimeout } from "../../base/mod.ts";
import { Comm, type CommOptions } from "./comm.ts";
import { ClientClosed, RequestTimeout, RpcFailed } from "../errors.ts";
import { decodeRemoteException } from "../codec/remote_exception.ts";
import type { SchedulerAddress } from "./address.ts";
import type { DecodeMessageOptions } from "../codec/message.ts";

/** Options of {@link RpcPool}. */
export interface RpcPoolOptions extends CommOptions {
  /** Most comms open at once. Default 4. */
  readonly size?: number;
}

/** Options of one {@link RpcPool.call}. */
export interface CallOptions {
  /** Milliseconds for the whole call (waiting for a comm, sending, the reply). */
  readonly timeoutMs: number;
  /** How the reply is decoded (see {@link DecodeMessageOptions.onSerialized}). */
  readonly decode?: DecodeMessageOptions;
}

/** A pool of comms to one server for request/reply operations. */
export class RpcPool {
  readonly #address: string | SchedulerAddress;
  readonly #options: RpcPoolOptions;
  readonly #size: number;
  readonly #idle: Comm[] = [];
  readonly #waiting: Array<(comm: Comm | Error) => void> = [];
  #open = 0;
  #closed = false;

  constructor(address: string | SchedulerAddress, options: RpcPoolOptions = {}, first?: Comm) {
    this.#address = address;
    this.#options = options;
    this.#size = Math.max(1, options.size ?? 4);
    if (first) {
      this.#open = 1;
      this.#idle.push(first);
    }
  }

  /**
   * Sends `{op, ...fields}` and returns the reply.
   * @throws {RpcFailed} when the server replies with an error status and exception text.
   * @throws {RequestTimeout} when the call does not complete within `timeoutMs` (the comm
   *   is then closed, since a late reply would confuse the next request).
   * @throws connection errors from opening or using a comm.
   */
  async call(
    msg: { op: string; [field: string]: unknown },
    options: CallOptions,
  ): Promise<unknown> {
    let comm: Comm | undefined;
    let timedOut = false;
    const exchange = async () => {
      const acquired = await this.#acquire();
      if (timedOut) {
        acquired.close();
        this.#release(acquired);
        return undefined;
      }
      comm = acquired;
      await comm.send({ ...msg, reply: true });
      return await comm.recv(options.decode);
    };
    try {
      const reply = await withTimeout(exchange(), options.timeoutMs, () => {
        timedOut = true;
        comm?.close();
        return new RequestTimeout(
          `scheduler RPC "${msg.op}" got no reply within ${options.timeoutMs} ms`,
        );
      });
      checkReply(msg.op, reply);
      return reply;
    } finally {
      if (comm) this.#release(comm);
    }
  }

  /** Closes every comm; pending and later calls fail with {@link ClientClosed}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const comm of this.#idle.splice(0)) {
      // Tell the server we are done; failures do not matter any more.
      comm.send({ op: "close", reply: false }).catch(() => {}).finally(() => comm.close());
    }
    for (const w of this.#waiting.splice(0)) w(new ClientClosed("the RPC pool is closed"));
  }

  async #acquire(): Promise<Comm> {
    if (this.#closed) throw new ClientClosed("the RPC pool is closed");
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < this.#size) {
      this.#open++;
      try {
        return await Comm.connect(this.#address, this.#options);
      } catch (e) {
        this.#open--;
        throw e;
      }
    }
    const comm = await new Promise<Comm | Error>((resolve) => this.#waiting.push(resolve));
    if (comm instanceof Error) throw comm;
    return comm;
  }

  #release(comm: Comm): void {
    if (comm.closed || this.#closed) {
      comm.close();
      this.#open--;
      // A waiter may now open a fresh comm.
      const waiter = this.#waiting.shift();
      if (waiter) {
        this.#open++;
        Comm.connect(this.#address, this.#options).then(waiter, (e) => {
          this.#open--;
          waiter(e);
        });
      }
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter) waiter(comm);
    else this.#idle.push(comm);
  }
}

/** Throws {@link RpcFailed} for `{status: "error" | "uncaught-error", exception_text, …}` replies. */
function checkReply(op: string, reply: unknown): void {
  if (reply === null || typeof reply !== "object" || reply instanceof Uint8Array) return;
  const r = reply as Record<string, unknown>;
  if ((r.status === "error" || r.status === "uncaught-error") && "exception_text" in r) {
    // The revived Python exception (when readable) is the cause: its args say more than text.
    const { exception } = decodeRemoteException(r.exception, r.traceback);
    throw new RpcFailed(
      op,
      String(r.exception_text ?? ""),
      String(r.traceback_text ?? ""),
      exception ? { cause: exception } : undefined,
    );
  }
}
