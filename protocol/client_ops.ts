/**
 * What the cluster operations beside the client (`upload_file.ts`, `persist.ts`,
 * `worker_run.ts`, `restart.ts`, `cluster_versions.ts`, `published_datasets.ts`) use of a
 * {@link Client} beyond its public API. Each `Client` builds one; nothing outside the protocol
 * layer sees it.
 * @module
 */
import type { StreamOp } from "./batched_stream.ts";
import type { Client } from "./client.ts";
import type { Future } from "./future.ts";
import type { Node, NodeAttrs } from "./graph.ts";
import type { SchedulerDialect } from "./scheduler_era.ts";

/** @internal A client's internals, for the operations in their own files. */
export interface ClientOps {
  /** The client itself (its public API). */
  readonly client: Client;
  /** The scheduler's dialect. */
  readonly dialect: SchedulerDialect;
  /** The client's RPC timeout in milliseconds. */
  readonly timeoutMs: number;
  /** One scheduler RPC; a lost connection is reported as such. */
  call(msg: { op: string; [field: string]: unknown }, timeoutMs: number): Promise<unknown>;
  /** Queues a message on the batched stream. */
  send(op: StreamOp): void;
  /** Computes several nodes as one graph (shared dependencies are computed once). */
  submit(nodes: readonly Node[]): Future[];
  /** Throws unless `future` is a live future of this client. */
  checkOwn(future: Future): void;
  /**
   * Sends a graph pickled on a worker (its payload untouched) that computes `wireKeys` (keys as
   * the scheduler names them: strings, or tuples as arrays) and returns a future for each.
   */
  submitPrebuilt(payload: Uint8Array, wireKeys: readonly unknown[], attrs: NodeAttrs): Future[];
  /**
   * Futures for keys already on the cluster (e.g. of a published dataset): the scheduler is told
   * this client wants them and reports them as it does for its own.
   */
  adopt(wireKeys: readonly unknown[], attrs: NodeAttrs): Future[];
  /** Resolves when the scheduler next announces a restart on the stream. */
  restarted(): Promise<void>;
}
