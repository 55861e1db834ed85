import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../codec/message.ts";
import { Comm } from "../connection/comm.ts";
import { frameMessage, FrameReader } from "../connection/framing.ts";
import type { Transport } from "../connection/transport.ts";
import { concatBytes, MemoryTransport } from "../testing/memory_transport.ts";
import type { FutureOwner } from "./future.ts";
import { KeyTable } from "./key_table.ts";
import { SchedulerStream } from "./scheduler_stream.ts";

/** A peer that sends its handshake, then nothing until closed; records what it is sent. */
class QuietPeer implements Transport {
  readonly peer = "memory://quiet";
  readonly written: Uint8Array[] = [];
  #greeting: MemoryTransport | undefined;
  #closed = Promise.withResolvers<null>();

  constructor(handshake: Record<string, unknown>) {
    this.#greeting = new MemoryTransport(concatBytes(frameMessage(encodeMessage(handshake))));
  }

  async read(into: Uint8Array): Promise<number | null> {
    const n = await this.#greeting?.read(into);
    if (typeof n === "number") return n;
    this.#greeting = undefined;
    return await this.#closed.promise;
  }

  write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const c of chunks) this.written.push(c.slice());
    return Promise.resolve();
  }

  close(): void {
    this.#closed.resolve(null);
  }
}

Deno.test("scheduler stream - keys released in one batch travel in one operation", async () => {
  const t = new QuietPeer({ compression: null, python: [3, 11, 7], "pickle-protocol": 5 });
  const comm = await Comm.open(t);
  const keys = new KeyTable({} as FutureOwner, () => {});
  const stream = new SchedulerStream(comm, keys, {
    address: "memory://test",
    batchIntervalMs: 5,
    heartbeatIntervalMs: 60_000,
    heartbeatTimeoutMs: 180_000,
  }, { taskErred: () => {}, lost: () => {} });
  stream.stopHeartbeat();
  for (const k of ["a", "b", ["x", 0]]) stream.releaseKey(k, "c1");
  await stream.sendNow({ op: "update-graph" }); // the queued batch goes first
  stream.releaseKey("d", "c1");
  await new Promise((r) => setTimeout(r, 20)); // the batch interval passes
  stream.releaseKey("e", "c1");
  stream.releaseKey("f", "c1");
  await stream.finish([{ op: "close-stream" }]);
  comm.close();
  await stream.done;

  const reader = new FrameReader(new MemoryTransport(concatBytes(t.written)));
  const written: unknown[] = [];
  for (let f = await reader.readMessage(); f !== null; f = await reader.readMessage()) {
    written.push(decodeMessage(f));
  }
  const release = (ks: unknown[]) => ({ op: "client-releases-keys", keys: ks, client: "c1" });
  assert.deepEqual(written.slice(1), [
    [release(["a", "b", ["x", 0]])],
    [{ op: "update-graph" }],
    [release(["d"])],
    [release(["e", "f"]), { op: "close-stream" }],
  ]);
});
