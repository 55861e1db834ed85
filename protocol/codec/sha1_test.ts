import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha1Hex } from "./sha1.ts";

Deno.test("sha1 - FIPS 180 test vectors", () => {
  assert.equal(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.equal(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(
    sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  );
});

Deno.test("sha1 - agrees with node:crypto across block boundaries and UTF-8 text", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537]) {
    const bytes = Uint8Array.from({ length: n }, random);
    assert.equal(sha1Hex(bytes), createHash("sha1").update(bytes).digest("hex"), `${n} bytes`);
  }
  const text = "σ-temperature 🌡 données";
  assert.equal(sha1Hex(text), createHash("sha1").update(text).digest("hex"));
});

Deno.test("sha1 - a long text after short ones (the UTF-8 scratch grows)", () => {
  const long = "é".repeat(5000) + "x";
  for (const text of ["a", long, "b", long.slice(1)]) {
    assert.equal(sha1Hex(text), createHash("sha1").update(text).digest("hex"));
  }
});

Deno.test("sha1 - a prefix and a shortened digest make one key", () => {
  const full = createHash("sha1").update("goperator:neg(i1)").digest("hex");
  assert.equal(sha1Hex("goperator:neg(i1)", "neg-", 32), `neg-${full.slice(0, 32)}`);
  assert.equal(sha1Hex("goperator:neg(i1)", "σ-", 40), `σ-${full}`);
  assert.equal(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

Deno.test("sha1 - a long prefix", () => {
  const prefix = "f".repeat(300) + "-";
  const full = createHash("sha1").update("x").digest("hex");
  assert.equal(sha1Hex("x", prefix, 32), prefix + full.slice(0, 32));
});
