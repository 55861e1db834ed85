import assert from "node:assert/strict";
import { DecodeFailed, ZlibNotLoaded } from "../errors.ts";
import { decompressFrame, loadZlib, lz4BlockDecompress } from "./lz4.ts";
import { PythonCodecDriver } from "../testing/python_codec_driver.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);

Deno.test("lz4 - hand-made blocks: literals, overlapping matches, extended lengths", () => {
  // "a" then a match of 46 at offset 1 (token 0x1f, length byte 0x1f), then 5 literals.
  const block = u8(0x2f, 0, 0, 0, 0x1f, 0x61, 0x01, 0x00, 0x16, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61);
  assert.deepEqual(lz4BlockDecompress(block), new Uint8Array(47).fill(0x61));
  // Literal length 15 + 255 + 3 = 273 via extension bytes.
  const lit = new Uint8Array(273).map((_, i) => i % 256);
  const withExt = u8(17, 1, 0, 0, 0xf0, 255, 3, ...lit);
  assert.deepEqual(lz4BlockDecompress(withExt), lit);
  assert.deepEqual(lz4BlockDecompress(u8(0, 0, 0, 0, 0)), new Uint8Array());
});

Deno.test("lz4 - malformed blocks fail with DecodeFailed before overrunning", () => {
  const bad: [Uint8Array, RegExp, number?][] = [
    [u8(1, 0), /shorter than the 4-byte size prefix/],
    [u8(0xff, 0xff, 0xff, 0x7f), /more than the limit/, 1000],
    [u8(5, 0, 0, 0, 0x50, 1, 2), /literal run of 5 bytes runs past/],
    [u8(1, 0, 0, 0, 0x20, 1, 2), /output exceeds the announced 1 bytes/],
    [u8(8, 0, 0, 0, 0x14, 0x61, 0, 0), /match offset 0/],
    [u8(8, 0, 0, 0, 0x14, 0x61, 2, 0), /match offset 2 at output byte 1 is invalid/],
    [u8(8, 0, 0, 0, 0x10, 0x61), /decompressed to 1 bytes, but the prefix announces 8/],
    [u8(8, 0, 0, 0, 0x10, 0x61, 1), /match offset runs past/],
    [u8(60, 0, 0, 0, 0x1f, 0x61, 1, 0, 255), /match length runs past/],
    [u8(60, 0, 0, 0, 0xf0, 255), /literal length runs past/],
    [u8(5, 0, 0, 0, 0x1f, 0x61, 1, 0, 200), /output exceeds the announced 5 bytes/],
  ];
  for (const [data, message, maxOutput] of bad) {
    assert.throws(() => lz4BlockDecompress(data, { maxOutput }), (e: unknown) => {
      assert.ok(e instanceof DecodeFailed, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("lz4 - decompressFrame dispatches by codec name", async () => {
  await loadZlib();
  const raw = u8(1, 2, 3);
  assert.equal(decompressFrame(null, raw), raw);
  assert.equal(decompressFrame(false, raw), raw);
  assert.equal(decompressFrame(undefined, raw), raw);
  assert.throws(() => decompressFrame("zstd", raw), /compressed with "zstd".*supported: lz4, zlib/);
  assert.throws(() => decompressFrame("snappy", raw), DecodeFailed);
  assert.ok(new ZlibNotLoaded() instanceof DecodeFailed);
  assert.throws(() => decompressFrame("zlib", raw), /invalid zlib frame/);
});

Deno.test("lz4 - frames compressed by Python decode to the original bytes", async (t) => {
  await loadZlib();
  const py = await PythonCodecDriver.start();
  try {
    await t.step("lz4.block and distributed's lz4/zlib compressors", async () => {
      const cases = await py.run<[string, Uint8Array, Uint8Array, Uint8Array, Uint8Array][]>(`
import lz4.block, random, zlib
from distributed.protocol.compression import compressions
rng = random.Random(7)
inputs = {
    "empty": b"",
    "one byte": b"a",
    "repetitive": b"abc" * 10000,
    "zeros 400000": bytes(400000),
    "random": bytes(rng.getrandbits(8) for _ in range(100000)),
    "text": ("".join(rng.choice("ACGT") for _ in range(50000)) * 3).encode(),
    "long matches": bytes(range(256)) * 300 + bytes(70000) + b"tail",
}
result = [[name, data, lz4.block.compress(data, store_size=True),
           compressions["lz4"].compress(data), zlib.compress(data)]
          for name, data in inputs.items()]
`);
      for (const [name, data, block, viaDistributed, zlibbed] of cases) {
        assert.deepEqual(lz4BlockDecompress(block), data, name);
        assert.deepEqual(decompressFrame("lz4", viaDistributed), data, `${name} (distributed)`);
        assert.deepEqual(decompressFrame("zlib", zlibbed), data, `${name} (zlib)`);
      }
      const zeros = cases.find(([name]) => name === "zeros 400000")![2];
      assert.deepEqual(
        [...zeros.subarray(0, 4)],
        [0x80, 0x1a, 0x06, 0x00],
        'the size prefix of docs/wire-protocol.md, "Compression"',
      );
      assert.throws(() => lz4BlockDecompress(zeros, { maxOutput: 399999 }), /more than the limit/);
      assert.throws(
        () =>
          decompressFrame("zlib", cases.find(([n]) => n === "zeros 400000")![4], {
            maxOutput: 1000,
          }),
        /invalid zlib frame \(or larger than 1000 bytes\)/,
      );
    });
  } finally {
    await py.close();
  }
});
