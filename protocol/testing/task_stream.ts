/**
 * Test helper: the chunk tasks a scheduler ran, from its task stream (`get_task_stream`; call it
 * once with `{ count: 0 }` first to install the stream).
 * @module
 */
import type { Client } from "../client/client.ts";

/** One finished task of a collection's chunks: its key and the worker that ran it. */
export interface ChunkTask {
  readonly key: unknown;
  readonly worker: string;
}

/**
 * Task-stream records of chunk tasks: those with tuple keys, which schedulers before 2023.9.0
 * report as strings such as `"('x', 0)"`.
 */
export async function chunkTasks(client: Client): Promise<ChunkTask[]> {
  const records = await client.rpc("get_task_stream", {}) as Record<string, unknown>[];
  const isChunk = (key: unknown) =>
    Array.isArray(key) || (typeof key === "string" && key.startsWith("("));
  return records.filter((r) => isChunk(r.key)) as unknown as ChunkTask[];
}
