import assert from "node:assert/strict";
import { pythonEnv } from "../../tests/replica/python_env.ts";
import { ConnectionClosed, DecodeFailed, FrameTooLarge } from "../errors.ts";
import { frameMessage, FrameReader } from "./framing.ts";
import { concatBytes, MemoryTransport } from "../testing/memory_transport.ts";
import { fuzzIterations, SeededRandom } from "../testing/seeded_random.ts";

function u64s(...values: number[]): Uint8Array {
  const out = new Uint8Array(8 * values.length);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigUint64(8 * i, BigInt(v), true));
  return out;
}

/** A transport with the optional `readFull` fast path (filled by repeated chunked reads). */
class FullReadTransport extends MemoryTransport {
  fullReads = 0;

  async readFull(into: Uint8Array): Promise<number> {
    this.fullReads++;
    let have = 0;
    while (have < into.length) {
      const got = await this.read(into.subarray(have));
      if (got === null) break;
      have += got;
    }
    return have;
  }
}

async function readAll(
  input: Uint8Array,
  chunk?: (i: number) => number,
  max?: number,
  full = false,
) {
  const transport = full ? new FullReadTransport(input, chunk) : new MemoryTransport(input, chunk);
  const reader = new FrameReader(transport, { maxMessageSize: max });
  const messages: Uint8Array[][] = [];
  for (;;) {
    const m = await reader.readMessage();
    if (m === null) return messages;
    messages.push(m);
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

Deno.test("framing - writer lays out the reference handshake example", () => {
  const body = new Uint8Array(42).fill(7);
  const wire = concatBytes(frameMessage([body]));
  assert.deepEqual(wire.subarray(0, 24), u64s(58, 1, 42));
  assert.deepEqual(wire.subarray(24), body);
});

Deno.test("framing - writer passes large frames through without copying", () => {
  const big = pattern(100_000, 1);
  const chunks = frameMessage([new Uint8Array([1, 2]), big, new Uint8Array([3])]);
  assert.ok(chunks.includes(big), "the large frame is written as the caller's own buffer");
  const wire = concatBytes(chunks);
  assert.deepEqual(wire.subarray(0, 8), u64s(8 * 4 + 2 + 100_000 + 1));
});

Deno.test("framing - round trip of many frame sizes in small read chunks", async () => {
  const sizes = [0, 1, 100, 16 * 1024 - 1, 16 * 1024, 70_000, 0, 200_000];
  const frames = sizes.map((n, i) => pattern(n, i));
  const wire = concatBytes([...frameMessage(frames), ...frameMessage([pattern(5, 9)])]);
  for (const chunk of [() => 1, () => 7, () => 65_536, () => Infinity]) {
    const messages = await readAll(wire, chunk);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[0], frames);
    assert.deepEqual(messages[1], [pattern(5, 9)]);
  }
});

Deno.test("framing - large frames are read in place through readFull", async () => {
  const frames = [pattern(3, 1), pattern(200_000, 2), pattern(5, 3), pattern(300_000, 4)];
  const wire = concatBytes([
    u64s(8 * 5 + 3 + 200_000),
    u64s(4, 3, 200_000, 5, 300_000),
    ...frames,
  ]);
  const transport = new FullReadTransport(wire, () => 50_000);
  const reader = new FrameReader(transport);
  assert.deepEqual(await reader.readMessage(), frames);
  assert.equal(await reader.readMessage(), null);
  assert.equal(transport.fullReads, 2, "the block and the trailing large frame");
  // A stream that ends inside a large frame is a truncated message, not a short frame.
  await assert.rejects(
    readAll(wire.subarray(0, wire.length - 1000), () => 50_000, undefined, true),
    ConnectionClosed,
  );
});

Deno.test("framing - the largest frame of the first block is 8-byte aligned", async () => {
  // A header of odd length, then two equal shards and a tail, all in the first block.
  const frames = [pattern(3, 1), pattern(78, 2), pattern(80_000, 3), pattern(80_000, 4)];
  frames.push(pattern(1001, 5));
  const wire = concatBytes(frameMessage(frames));
  for (const full of [false, true]) {
    const [message] = await readAll(wire, () => 30_000, undefined, full);
    assert.deepEqual(message, frames);
    const [, , first, second] = message;
    assert.equal(first.byteOffset % 8, 0, "the first shard is aligned");
    assert.equal(second.buffer, first.buffer, "the block is one buffer");
    assert.equal(second.byteOffset, first.byteOffset + first.length, "shards are neighbours");
  }
});

Deno.test("framing - reads the 'first block only' meaning of the first length", async () => {
  // distributed >= 2023.11: first u64 = prelude + first frame only; the rest follows.
  const f0 = pattern(10, 1);
  const f1 = pattern(300_000, 2);
  const f2 = pattern(3, 3);
  const prelude = u64s(3, 10, 300_000, 3);
  const wire = concatBytes([u64s(prelude.length + 10), prelude, f0, f1, f2]);
  assert.deepEqual(await readAll(wire, () => 4096), [[f0, f1, f2]]);
});

Deno.test("framing - small frames after the first block share buffers, large ones do not", async () => {
  // A reply of many small values (2023.11+ layout): 3000 small frames, a large one among them.
  const sizes = Array.from({ length: 3001 }, (_, i) => (i === 1500 ? 200_000 : 1 + (i % 700)));
  const frames = sizes.map((n, i) => pattern(n, i));
  const prelude = u64s(frames.length, ...sizes);
  const wire = concatBytes([u64s(prelude.length + sizes[0]), prelude, ...frames]);
  for (const chunk of [() => 1000, () => Infinity]) {
    const [got] = await readAll(wire, chunk);
    assert.deepEqual(got, frames);
    const buffers = new Set(got.slice(1).map((f) => f.buffer));
    assert.ok(buffers.size < 10, `${buffers.size} buffers for ${got.length - 1} frames`);
    assert.equal(got[1500].byteLength, got[1500].buffer.byteLength, "the large frame alone");
  }
});

Deno.test("framing - golden bytes from distributed's own frame header", async () => {
  const python = await pythonEnv("current");
  const script = `
import sys, numpy
from distributed.comm.tcp import _add_frames_header
frames = [b"head", bytes(range(256)) * 20, numpy.arange(50000, dtype="u1").data, b"", b"tail"]
out, _, _ = _add_frames_header(frames)
sys.stdout.buffer.write(b"".join(bytes(f) for f in out))
`;
  const out = await new Deno.Command(python, { args: ["-c", script], stdout: "piped" }).output();
  assert.ok(out.success);
  const first = Number(new DataView(out.stdout.buffer).getBigUint64(0, true));
  assert.ok(first < out.stdout.length - 8, "Python splits this message after the first block");
  const [message] = await readAll(out.stdout, () => 1000);
  const numbers = Uint8Array.from({ length: 50_000 }, (_, i) => i & 0xff);
  const block = Uint8Array.from({ length: 5120 }, (_, i) => i & 0xff);
  assert.deepEqual(message.map((f) => f.length), [4, 5120, 50_000, 0, 4]);
  assert.deepEqual(message[1], block);
  assert.deepEqual(message[2], numbers);
  assert.equal(new TextDecoder().decode(message[4]), "tail");
});

Deno.test("framing - distributed unpacks what the writer produced", async () => {
  const python = await pythonEnv("current");
  const frames = [pattern(3, 1), pattern(40_000, 2), new Uint8Array(0)];
  const wire = concatBytes(frameMessage(frames));
  const script = `
import sys
from distributed.protocol.utils import unpack_frames
data = sys.stdin.buffer.read()
frames = unpack_frames(memoryview(data)[8:])
print([len(f) for f in frames], sum(bytes(frames[1])) % 1000)
`;
  const child = new Deno.Command(python, {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(wire);
  await w.close();
  const out = await child.output();
  const sum = frames[1].reduce((a, b) => a + b, 0) % 1000;
  assert.equal(new TextDecoder().decode(out.stdout).trim(), `[3, 40000, 0] ${sum}`);
});

Deno.test("framing - clean end between messages gives null, truncation throws", async () => {
  assert.deepEqual(await readAll(new Uint8Array(0)), []);
  const wire = concatBytes(frameMessage([pattern(100, 1)]));
  for (const cut of [3, 8, 20, wire.length - 1]) {
    await assert.rejects(readAll(wire.subarray(0, cut)), ConnectionClosed);
  }
});

Deno.test("framing - size limit is enforced before allocating", async () => {
  // 2^60 bytes could never be allocated: the typed error proves the check comes first.
  await assert.rejects(readAll(u64s(2 ** 52, 1, 2 ** 52)), FrameTooLarge);
  const huge = concatBytes([u64s(0xffffffff), new Uint8Array([0xff, 0xff, 0xff, 0xff])]);
  await assert.rejects(readAll(huge), FrameTooLarge);
  const wire = concatBytes(frameMessage([pattern(600, 1), pattern(600, 2)]));
  await assert.rejects(readAll(wire, undefined, 1000), (e: unknown) => {
    assert.ok(e instanceof FrameTooLarge);
    assert.equal(e.limit, 1000);
    assert.match(e.message, /maxMessageSize/);
    return true;
  });
  // Frame lengths that overflow the limit after a small first block.
  const split = concatBytes([u64s(24), u64s(2, 0, 2 ** 40)]);
  await assert.rejects(readAll(split, undefined, 1 << 20), FrameTooLarge);
});

Deno.test("framing - inconsistent preludes are decode errors", async () => {
  // Block shorter than its prelude.
  await assert.rejects(readAll(concatBytes([u64s(16), u64s(5, 1)])), DecodeFailed);
  // Block that ends inside a frame.
  await assert.rejects(
    readAll(concatBytes([u64s(8 * 3 + 5), u64s(2, 4, 4), pattern(8, 1)])),
    DecodeFailed,
  );
  // Block too short for the frame count.
  await assert.rejects(readAll(concatBytes([u64s(4), u64s(0)])), DecodeFailed);
});

Deno.test("framing - fuzz: random and mutated input only raises typed errors", async () => {
  const rng = new SeededRandom(0xf4a3e);
  const valid = [
    concatBytes(frameMessage([pattern(40, 1), pattern(3, 2)])),
    concatBytes(frameMessage([pattern(20_000, 3)])),
    concatBytes([u64s(8 * 3 + 2), u64s(2, 2, 70_000), pattern(2, 1), pattern(70_000, 2)]),
  ];
  const iterations = fuzzIterations(1500);
  for (let i = 0; i < iterations; i++) {
    let input: Uint8Array;
    if (rng.int(4) === 0) {
      input = rng.bytes(rng.int(200));
    } else {
      input = valid[rng.int(valid.length)].slice();
      for (let m = rng.int(6) + 1; m > 0; m--) {
        const at = rng.int(Math.min(input.length, 48));
        input[at] = rng.int(256);
      }
      if (rng.int(3) === 0) input = input.subarray(0, rng.int(input.length));
    }
    try {
      await readAll(input, () => 1 + rng.int(5000), 1 << 20, rng.int(2) === 0);
    } catch (e) {
      if (
        !(e instanceof DecodeFailed || e instanceof FrameTooLarge ||
          e instanceof ConnectionClosed)
      ) {
        throw new Error(`iteration ${i}: untyped failure ${e}`, { cause: e });
      }
    }
  }
});
