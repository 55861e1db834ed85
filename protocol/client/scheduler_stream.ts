/**
 * The client's stream with the scheduler: operations out in batches, the scheduler's reports in
 * (a key is in memory, a task failed, keys were cancelled, lost or retried, the scheduler
 * restarted) applied to the client's keys, and the heartbeat that tells a silent scheduler from
 * a slow one (see `docs/wire-protocol.md`, "Client and scheduler").
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { BatchedStream, type StreamOp } from "../connection/batched_stream.ts";
import type { Comm } from "../connection/comm.ts";
import { ConnectionLost, type RemoteError, TaskCancelled } from "../errors.ts";
import { type KeyState, keyText } from "./key_state.ts";
import type { KeyTable } from "./key_table.ts";
import { taskErredToRemoteError } from "./task_error.ts";

/** Settings of a {@link SchedulerStream}. */
export interface SchedulerStreamOptions {
  /** The scheduler's address as the client was given it (errors name it). */
  readonly address: string;
  /** Milliseconds small operations are batched before sending. */
  readonly batchIntervalMs: number;
  /** Heartbeat period until the scheduler asks for another. */
  readonly heartbeatIntervalMs: number;
  /** The stream counts as lost when the scheduler sent nothing for this long. */
  readonly heartbeatTimeoutMs: number;
  /**
   * For schedulers that never answer heartbeats (before distributed 2025.4.0): asks the
   * scheduler something else when the stream has been quiet that long; it resolves when the
   * scheduler answered and rejects when it did not within the heartbeat timeout. Without it a
   * quiet stream counts as lost.
   */
  readonly probe?: () => Promise<void>;
}

/** What the stream cannot decide by itself. */
export interface SchedulerStreamEvents {
  /** A task the client holds failed. */
  taskErred(state: KeyState, error: RemoteError): void;
  /** The stream broke, the scheduler closed it, or the scheduler fell silent. */
  lost(cause: unknown): void;
}

/** The batched stream to one scheduler, its read loop and its heartbeat. */
export class SchedulerStream {
  readonly #comm: Comm;
  readonly #batched: BatchedStream;
  readonly #keys: KeyTable;
  readonly #events: SchedulerStreamEvents;
  readonly #address: string;
  readonly #heartbeatTimeoutMs: number;
  readonly #probe: (() => Promise<void>) | undefined;
  #heartbeatMs: number;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatStopped = false;
  #lastHeard = Date.now();
  readonly #reading: Promise<void>;
  /** The `client-releases-keys` operation of the batch being filled (see {@link releaseKey}). */
  #releasing: { batch: number; keys: unknown[] } | undefined;
  /** Waiting for the scheduler's next `restart` announcement (see {@link restarted}). */
  readonly #restartWaiters: Array<() => void> = [];

  /** Starts reading the scheduler's reports about `keys` and sending heartbeats on `comm`. */
  constructor(
    comm: Comm,
    keys: KeyTable,
    options: SchedulerStreamOptions,
    events: SchedulerStreamEvents,
  ) {
    this.#comm = comm;
    this.#keys = keys;
    this.#events = events;
    this.#address = options.address;
    this.#heartbeatMs = options.heartbeatIntervalMs;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs;
    this.#probe = options.probe;
    this.#batched = new BatchedStream(comm, options.batchIntervalMs, (e) => events.lost(e));
    this.#reading = this.#read();
    this.#scheduleHeartbeat();
  }

  /** Queues an operation for the next batch. */
  send(op: StreamOp): void {
    this.#batched.send(op);
  }

  /**
   * Queues `client-releases-keys` for one key (as the scheduler names it). Keys released in the
   * same batch travel in one operation, which the scheduler handles once (Python's client sends
   * one per key: releasing 50 000 futures costs it 50 000 handler calls).
   */
  releaseKey(wireKey: unknown, client: string): void {
    const pending = this.#releasing;
    if (pending && pending.batch === this.#batched.batch) {
      pending.keys.push(wireKey);
      return;
    }
    const keys = [wireKey];
    this.#batched.send({ op: "client-releases-keys", keys, client });
    this.#releasing = { batch: this.#batched.batch, keys };
  }

  /**
   * Encodes `op` now (encoding errors throw here and nothing is sent), then writes it after the
   * queued operations. A failed write is reported as a lost stream.
   */
  sendNow(op: StreamOp): Promise<void> {
    return this.#batched.sendNow(op);
  }

  /** Resolves when the scheduler next announces a restart on the stream. */
  restarted(): Promise<void> {
    return new Promise((resolve) => this.#restartWaiters.push(resolve));
  }

  /** Stops the heartbeat (the client is closing or lost). */
  stopHeartbeat(): void {
    this.#heartbeatStopped = true;
    clearTimeout(this.#heartbeatTimer);
  }

  /** Writes what is queued, then `final` operations, and stops batching. */
  finish(final: StreamOp[]): Promise<void> {
    return this.#batched.close(final);
  }

  /** Closes the connection; the read loop ends. */
  close(): void {
    this.#comm.close();
  }

  /** Settles when the read loop has ended. */
  get done(): Promise<void> {
    return this.#reading;
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const msg = await this.#comm.recv();
        this.#lastHeard = Date.now();
        for (const op of Array.isArray(msg) ? msg : [msg]) {
          if (op === "OK") break;
          if (isPlainObject(op)) this.#handle(op);
        }
      }
    } catch (e) {
      this.#events.lost(e);
    }
  }

  #handle(msg: Record<string, unknown>): void {
    const keys = this.#keys;
    switch (msg.op) {
      case "key-in-memory":
        keys.get(keyText(msg.key))?.finish();
        break;
      case "task-erred": {
        const key = keyText(msg.key);
        const state = keys.get(key);
        if (!state) break;
        this.#events.taskErred(state, taskErredToRemoteError(key, msg.exception, msg.traceback));
        break;
      }
      case "cancelled-keys": {
        const cancelled = Array.isArray(msg.keys) ? msg.keys.map(keyText) : [];
        const reason = [msg.reason, msg.msg].filter((x) => typeof x === "string" && x).join(": ");
        for (const key of cancelled) {
          keys.forget(key)?.fail(
            "cancelled",
            new TaskCancelled(key, reason || "cancelled by the scheduler"),
          );
        }
        break;
      }
      case "lost-data":
      case "task-retried":
        keys.get(keyText(msg.key))?.reset();
        break;
      case "restart":
        for (const announced of this.#restartWaiters.splice(0)) announced();
        for (const key of keys.keys()) {
          keys.forget(key)?.fail("cancelled", new TaskCancelled(key, "the scheduler restarted"));
        }
        break;
      case "adjust-heartbeat-interval":
        if (typeof msg.interval === "number" && msg.interval > 0) {
          this.#heartbeatMs = msg.interval * 1000;
        }
        break;
      case "stream-closed":
        this.#events.lost(
          new ConnectionLost(`scheduler ${this.#address} closed the client stream`),
        );
        break;
    }
  }

  #scheduleHeartbeat(): void {
    const period = Math.min(this.#heartbeatMs, this.#heartbeatTimeoutMs / 3);
    this.#heartbeatTimer = setTimeout(async () => {
      if (this.#heartbeatStopped) return;
      if (Date.now() - this.#lastHeard > this.#heartbeatTimeoutMs) {
        const probed = this.#probe ? await this.#probe().then(() => true, () => false) : false;
        if (this.#heartbeatStopped) return;
        if (!probed) {
          const silent = Date.now() - this.#lastHeard;
          this.#events.lost(
            new ConnectionLost(
              `scheduler ${this.#address} sent nothing for ${silent} ms (heartbeat timeout ` +
                `${this.#heartbeatTimeoutMs} ms)`,
            ),
          );
          return;
        }
        this.#lastHeard = Date.now();
      }
      this.#batched.send({ op: "heartbeat-client" });
      this.#scheduleHeartbeat();
    }, period);
  }
}
