import assert from "node:assert/strict";
import { BatchedStream } from "./batched_stream.ts";
import { Comm, LOCAL_HANDSHAKE } from "./comm.ts";
import { HandshakeFailed, RequestTimeout, RpcFailed } from "../errors.ts";
import { frameMessage, FrameReader } from "./framing.ts";
import { decodeMessage, encodeMessage } from "../codec/message.ts";
import { RpcPool } from "./rpc_pool.ts";
import { concatBytes, MemoryTransport } from "../testing/memory_transport.ts";
import { DenoConnTransport } from "./deno_conn_transport.ts";

/** Bytes a peer sends: its handshake, then the given messages. */
function peerBytes(...messages: unknown[]): Uint8Array {
  const handshake = { compression: "lz4", python: [3, 11, 7], "pickle-protocol": 4 };
  return concatBytes(
    [handshake, ...messages].flatMap((m) => frameMessage(encodeMessage(m))),
  );
}

/** Decodes everything a MemoryTransport recorded as written. */
async function writtenMessages(t: MemoryTransport): Promise<unknown[]> {
  const reader = new FrameReader(new MemoryTransport(concatBytes(t.written)));
  const out: unknown[] = [];
  for (let f = await reader.readMessage(); f !== null; f = await reader.readMessage()) {
    out.push(decodeMessage(f));
  }
  return out;
}

/** A TCP server whose connections are handled by `handle`; closed on dispose. */
function serve(handle: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const tasks: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      tasks.push(handle(conn).catch(() => {}));
    }
  })();
  return {
    address: `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop.catch(() => {});
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed by the handler
        }
      }
      await Promise.all(tasks);
    },
  };
}

Deno.test("comm - handshake is sent first and the peer's is read", async () => {
  const t = new MemoryTransport(peerBytes({ op: "x" }), () => 3);
  const comm = await Comm.open(t);
  assert.equal(comm.peerInfo.pickleProtocol, 4, "the lower protocol wins");
  assert.equal(comm.peerInfo.compression, "lz4");
  assert.deepEqual(await comm.recv(), { op: "x" });
  assert.deepEqual(await writtenMessages(t), [LOCAL_HANDSHAKE]);
  comm.close();
});

Deno.test("comm - peers that are not Dask fail the handshake clearly", async () => {
  await assert.rejects(Comm.open(new MemoryTransport(new Uint8Array())), HandshakeFailed);
  const notDask = concatBytes(frameMessage(encodeMessage({ hello: "world" })));
  await assert.rejects(Comm.open(new MemoryTransport(notDask)), (e: unknown) => {
    assert.ok(e instanceof HandshakeFailed);
    assert.match(e.message, /pickle-protocol/);
    return true;
  });
  // A server that accepts and stays silent: bounded by the handshake timeout.
  await using server = serve(async (conn) => {
    await conn.read(new Uint8Array(1024));
    await new Promise((r) => setTimeout(r, 400));
  });
  await assert.rejects(
    Comm.connect(server.address, { handshakeTimeoutMs: 200 }),
    (e: unknown) => {
      assert.ok(e instanceof RequestTimeout);
      assert.match(e.message, /no Dask handshake within 200 ms/);
      return true;
    },
  );
});

Deno.test("comm - batched stream writes queued ops as one array", async () => {
  const t = new MemoryTransport(peerBytes());
  const comm = await Comm.open(t);
  const errors: unknown[] = [];
  const stream = new BatchedStream(comm, 20, (e) => errors.push(e));
  stream.send({ op: "a" });
  stream.send({ op: "b", keys: ["k"] });
  await new Promise((r) => setTimeout(r, 60));
  await stream.sendNow({ op: "c" });
  stream.send({ op: "d" });
  await stream.close([{ op: "close-stream" }]);
  const [, ...batches] = await writtenMessages(t);
  assert.deepEqual(batches, [
    [{ op: "a" }, { op: "b", keys: ["k"] }],
    [{ op: "c" }],
    [{ op: "d" }, { op: "close-stream" }],
  ]);
  assert.deepEqual(errors, []);
  comm.close();
});

Deno.test("rpc pool - error replies, timeouts and concurrency", async () => {
  let open = 0;
  let maxOpen = 0;
  await using server = serve(async (conn) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    const comm = await Comm.open(new DenoConnTransport("tcp://client", conn));
    try {
      for (;;) {
        const msg = await comm.recv() as { op: string; delay?: number };
        if (msg.op === "close") break;
        if (msg.op === "fail") {
          await comm.send({
            status: "uncaught-error",
            exception_text: "TypeError('unexpected keyword')",
            traceback_text: '  File "core.py", line 1',
          });
        } else {
          await new Promise((r) => setTimeout(r, msg.delay ?? 0));
          await comm.send({ echo: msg.op });
        }
      }
    } finally {
      open--;
      comm.close();
    }
  });
  const pool = new RpcPool(server.address, { size: 2 });
  try {
    await assert.rejects(pool.call({ op: "fail" }, { timeoutMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof RpcFailed);
      assert.equal(e.op, "fail");
      assert.match(e.message, /unexpected keyword/);
      assert.match(e.tracebackText, /core\.py/);
      return true;
    });
    const replies = await Promise.all(
      ["a", "b", "c", "d"].map((op) => pool.call({ op, delay: 50 }, { timeoutMs: 5000 })),
    );
    assert.deepEqual(replies, [{ echo: "a" }, { echo: "b" }, { echo: "c" }, { echo: "d" }]);
    assert.equal(maxOpen, 2, "never more comms than the pool size");
    await assert.rejects(
      pool.call({ op: "slow", delay: 400 }, { timeoutMs: 100 }),
      RequestTimeout,
    );
    // The timed-out comm was dropped; the pool still works.
    assert.deepEqual(await pool.call({ op: "z" }, { timeoutMs: 5000 }), { echo: "z" });
  } finally {
    pool.close();
  }
});
