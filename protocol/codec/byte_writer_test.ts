import assert from "node:assert/strict";
import { ByteWriter, utf8Length } from "./byte_writer.ts";
import { SeededRandom } from "../testing/seeded_random.ts";

Deno.test("byte writer - grows past its initial size and keeps earlier bytes", () => {
  const w = new ByteWriter(16);
  for (let i = 0; i < 1000; i++) w.u8(i & 0xff);
  w.u16le(0x0102);
  w.u32be(0x03040506);
  w.i32le(-2);
  w.u64le(2 ** 40 + 7);
  w.f64be(1.5);
  w.bytes(new Uint8Array(5000).fill(9));
  const out = w.finish();
  assert.equal(out.length, 1000 + 2 + 4 + 4 + 8 + 8 + 5000);
  assert.deepEqual([...out.subarray(0, 3)], [0, 1, 2]);
  assert.equal(out[999], 999 & 0xff);
  const view = new DataView(out.buffer, out.byteOffset);
  assert.equal(view.getUint16(1000, true), 0x0102);
  assert.equal(view.getUint32(1002, false), 0x03040506);
  assert.equal(view.getInt32(1006, true), -2);
  assert.equal(view.getUint32(1010, true) + view.getUint32(1014, true) * 2 ** 32, 2 ** 40 + 7);
  assert.equal(view.getFloat64(1018, false), 1.5);
  assert.equal(out[out.length - 1], 9);
});

Deno.test("byte writer - UTF-8 matches TextEncoder, lone surrogates included", () => {
  const rnd = new SeededRandom(11);
  const pool = [
    "a",
    "é",
    "✓",
    "😀",
    "\ud800",
    "\udc00",
    "\u0000",
    "ß",
    "\u07ff",
    "\u0800",
    "\uffff",
  ];
  const enc = new TextEncoder();
  for (let i = 0; i < 500; i++) {
    let s = "";
    const n = rnd.int(i < 250 ? 20 : 200);
    for (let j = 0; j < n; j++) s += pool[rnd.int(pool.length)];
    const expected = enc.encode(s);
    assert.equal(utf8Length(s), expected.length, JSON.stringify(s));
    const w = new ByteWriter(4);
    w.utf8(s, utf8Length(s));
    assert.deepEqual(w.finish(), expected, JSON.stringify(s));
  }
});
