/**
 * What the parts of a client share: its id and dialect, the keys it holds, its stream, and its
 * RPCs to the scheduler.
 * @module
 */
import type { DecodeMessageOptions } from "../codec/message.ts";
import type { SchedulerDialect } from "../graph/scheduler_era.ts";
import type { KeyTable } from "./key_table.ts";
import type { SchedulerStream } from "./scheduler_stream.ts";

/** An RPC message: `{op, ...fields}`. */
export type RpcMessage = { op: string; [field: string]: unknown };

/** One client's connection to its scheduler, as its parts use it. */
export interface ClientContext {
  /** The client id announced to the scheduler. */
  readonly id: string;
  /** The scheduler's dialect. */
  readonly dialect: SchedulerDialect;
  /** The keys the client holds. */
  readonly keys: KeyTable;
  /** The client's stream. */
  readonly stream: SchedulerStream;
  /** Milliseconds for RPC replies. */
  readonly timeoutMs: number;
  /** Milliseconds for data transfers. */
  readonly transferTimeoutMs: number;
  /**
   * Sends one RPC and returns its reply (decoded as `decode` says); after a lost connection,
   * rejects with that loss.
   */
  call(msg: RpcMessage, timeoutMs: number, decode?: DecodeMessageOptions): Promise<unknown>;
}
