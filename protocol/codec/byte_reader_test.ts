import assert from "node:assert/strict";
import { ByteReader } from "./byte_reader.ts";
import { DecodeFailed } from "../errors.ts";

Deno.test("byte reader - reads fields and refuses to run past the end", () => {
  const r = new ByteReader(Uint8Array.of(1, 2, 0, 0, 0, 0x61, 0x62, 0x0a, 0xff), "test");
  assert.equal(r.u8(), 1);
  assert.equal(r.u32le(), 2);
  assert.equal(r.line(), "ab");
  assert.equal(r.remaining, 1);
  assert.throws(() => r.u16le(), (e: unknown) => {
    assert.ok(e instanceof DecodeFailed);
    assert.match(e.message, /invalid test data at byte 8: value needs 2 bytes but only 1 remain/);
    return true;
  });
  assert.throws(() => r.view(2, "payload"), /payload needs 2 bytes/);
  assert.equal(r.u8(), 0xff);
  assert.throws(() => r.u8(), /unexpected end of data/);
});

Deno.test("byte reader - big-endian 64-bit values become bigint only when needed", () => {
  const r = new ByteReader(
    Uint8Array.of(
      0,
      0x1f,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0,
      0x20,
      0,
      0,
      0,
      0,
      0,
      0,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xfe,
    ),
    "test",
  );
  assert.equal(r.u64be(), 2 ** 53 - 1);
  assert.equal(r.u64be(), 2n ** 53n);
  assert.equal(r.i64be(), -2);
});

Deno.test("byte reader - strict UTF-8 rejects invalid bytes, lenient replaces them", () => {
  const bad = Uint8Array.of(0xed, 0xa0, 0x80); // a surrogate as Python's surrogatepass writes it
  assert.throws(() => new ByteReader(bad, "msgpack").utf8(3, true), /not valid UTF-8/);
  assert.equal(new ByteReader(bad, "pickle").utf8(3, false), "\ufffd\ufffd\ufffd");
  const long = new TextEncoder().encode("é".repeat(40));
  assert.equal(new ByteReader(long, "x").utf8(long.length, true), "é".repeat(40));
});
