import assert from "node:assert/strict";
import { DecodeFailed, EncodeFailed } from "../errors.ts";
import { decodeMsgpack, encodeMsgpack, Float64 } from "./msgpack.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../testing/python_codec_driver.ts";

const u8 = (...b: number[]) => Uint8Array.from(b);

Deno.test("msgpack - maps with non-string keys, bigints, hooks", () => {
  const m = new Map<unknown, unknown>([[1, "a"], [["x", 0], "b"], ["s", "c"]]);
  assert.deepEqual(decodeMsgpack(encodeMsgpack(m)), m);
  assert.deepEqual(decodeMsgpack(encodeMsgpack({ a: 1 })), { a: 1 });
  assert.equal(decodeMsgpack(encodeMsgpack(2n ** 63n)), 2n ** 63n);
  assert.equal(decodeMsgpack(encodeMsgpack(-(2n ** 60n))), -(2n ** 60n));
  assert.equal(decodeMsgpack(encodeMsgpack(2n ** 40n)), 2 ** 40);
  assert.deepEqual(encodeMsgpack(new Float64(5)), u8(0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(encodeMsgpack(undefined), u8(0xc0));
  assert.deepEqual(encodeMsgpack({ a: undefined, b: 1 }), u8(0x81, 0xa1, 0x62, 1));
  const proto = decodeMsgpack(
    u8(0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 1),
  ) as object;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(Object.hasOwn(proto, "__proto__"), true);
  const hooked = decodeMsgpack(encodeMsgpack([{ a: 1 }, new Map([[1, 2]])]), {
    mapHook: (x) => (x instanceof Map ? "map" : "object"),
  });
  assert.deepEqual(hooked, ["object", "map"]);
  assert.deepEqual(
    decodeMsgpack(
      encodeMsgpack([new Set([1])], { replace: (v) => (v instanceof Set ? [...v] : undefined) }),
    ),
    [[1]],
  );
});

Deno.test("msgpack - int64 reads as a number within ±(2⁵³ - 1), else as a bigint", () => {
  const int64 = (v: bigint) => {
    const b = new Uint8Array(9);
    b[0] = 0xd3;
    new DataView(b.buffer).setBigInt64(1, v);
    return decodeMsgpack(b);
  };
  for (const v of [-1n, -(2n ** 31n) - 1n, -(2n ** 32n), -(10n ** 12n), -(2n ** 53n) + 1n]) {
    assert.equal(int64(v), Number(v));
  }
  assert.equal(int64(2n ** 53n - 1n), 2 ** 53 - 1);
  assert.equal(int64(-(2n ** 53n)), -(2n ** 53n));
  assert.equal(int64(-(2n ** 63n)), -(2n ** 63n));
  assert.equal(int64(2n ** 62n), 2n ** 62n);
});

Deno.test("msgpack - short strings repeat as they were read", () => {
  const words = ["op", "key-in-memory", "op", "", "é", "serializer", "key-in-memory"];
  assert.deepEqual(decodeMsgpack(encodeMsgpack(words)), words);
});

Deno.test("msgpack - encoder rejects what it cannot represent", () => {
  assert.throws(() => encodeMsgpack(2n ** 64n), /does not fit msgpack's 64 bits/);
  assert.throws(() => encodeMsgpack(-(2n ** 63n) - 1n), EncodeFailed);
  assert.throws(() => encodeMsgpack(new Set([1])), /cannot encode a Set object/);
  assert.throws(() => encodeMsgpack(Symbol("x")), /cannot encode symbol/);
  assert.throws(() => encodeMsgpack(new Date(), { replace: () => undefined }), EncodeFailed);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => encodeMsgpack(cyclic), /nested deeper than 256 levels \(or cyclic\)/);
});

Deno.test("msgpack - decoder rejects malformed data with DecodeFailed", () => {
  const bad: [Uint8Array, RegExp][] = [
    [u8(), /unexpected end/],
    [u8(0xc1), /0xc1 is never used/],
    [u8(0xd4, 1, 2), /ext type/],
    [u8(0xc7, 1, 1, 0), /ext type/],
    [u8(0xc0, 0xc0), /1 bytes left over/],
    [u8(0xdd, 0xff, 0xff, 0xff, 0xff), /array of 4294967295 items needs/],
    [u8(0xdf, 0, 1, 0, 0), /map of 65536 entries needs 131072 bytes/],
    [u8(0xc6, 0x7f, 0xff, 0xff, 0xff), /bin needs 2147483647 bytes/],
    [u8(0xdb, 0, 0, 1, 0, 0x61), /string needs 256 bytes/],
    [u8(0xa2, 0xc3, 0x28), /not valid UTF-8/],
    [u8(0xcb, 0, 0), /value needs 8 bytes/],
    [u8(0x81, 0xa1, 0x61), /unexpected end/],
    [u8(0x81, 0xa1), /map of 1 entries needs 2 bytes/],
  ];
  for (const [data, message] of bad) {
    assert.throws(() => decodeMsgpack(data), (e: unknown) => {
      assert.ok(e instanceof DecodeFailed, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
  const deep = new Uint8Array(300).fill(0x91);
  deep[299] = 0xc0;
  assert.throws(() => decodeMsgpack(deep), /nested deeper than 256 levels/);
  let v = decodeMsgpack(deep.subarray(200));
  let depth = 0;
  for (; Array.isArray(v); depth++) v = v[0];
  assert.equal(depth, 99);
  assert.doesNotThrow(() => decodeMsgpack(deep, { maxDepth: 300 }));
});

// DEDL's stack (msgpack 1.0.5, numpy 1.26, distributed 2023.8.0) and the newest.
for (const era of CODEC_ERAS) {
  Deno.test(`msgpack - byte-identical to Python's msgpack both ways (${era})`, async (t) => {
    const py = await PythonCodecDriver.start(era);
    try {
      const bin = (n: number) => new Uint8Array(n).fill(7);
      const cases: [string, unknown][] = [
        ["None", null],
        ["[True, False]", [true, false]],
        ["[0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1]", [
          0,
          127,
          128,
          255,
          256,
          65535,
          65536,
          2 ** 32 - 1,
          2 ** 32,
          2 ** 53 - 1,
        ]],
        ["[2**53, 2**64 - 1]", [2n ** 53n, 2n ** 64n - 1n]],
        ["[-1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**53) + 1]", [
          -1,
          -32,
          -33,
          -128,
          -129,
          -32768,
          -32769,
          -(2 ** 31),
          -(2 ** 31) - 1,
          -(2 ** 53) + 1,
        ]],
        ["[-(2**63)]", [-(2n ** 63n)]],
        ["[0.5, -1.25, 1e300, float('inf')]", [0.5, -1.25, 1e300, Infinity]],
        ["['', 'a' * 31, 'a' * 32, 'a' * 255, 'a' * 256, 'a' * 65535, 'a' * 65536]", [
          "",
          "a".repeat(31),
          "a".repeat(32),
          "a".repeat(255),
          "a".repeat(256),
          "a".repeat(65535),
          "a".repeat(65536),
        ]],
        ["['héllo ✓ 😀', 'é' * 40]", ["héllo ✓ 😀", "é".repeat(40)]],
        ["[b'', b'\\x07' * 255, b'\\x07' * 256, b'\\x07' * 65536]", [
          bin(0),
          bin(255),
          bin(256),
          bin(65536),
        ]],
        ["[list(range(15)), list(range(16)), list(range(65536))]", [
          range(15),
          range(16),
          range(65536),
        ]],
        [
          "{str(i): i for i in range(15)}",
          Object.fromEntries(range(15).map((i) => [String(i), i])),
        ],
        [
          "{str(i): i for i in range(16)}",
          Object.fromEntries(range(16).map((i) => [String(i), i])),
        ],
        [
          "{'op': 'x', 'who_has': {('x', 0): ['tcp://a:1']}, 1: None}",
          new Map<unknown, unknown>([
            ["op", "x"],
            ["who_has", new Map([[["x", 0], ["tcp://a:1"]]])],
            [
              1,
              null,
            ],
          ]),
        ],
      ];
      const python = await py.run<Uint8Array[]>(
        `result = [msgpack.dumps(eval(expr), use_bin_type=True) for expr in args["exprs"]]`,
        { exprs: cases.map(([e]) => e) },
      );
      await t.step("Python bytes decode to the expected values", () => {
        cases.forEach(([expr, want], i) => assert.deepEqual(decodeMsgpack(python[i]), want, expr));
      });
      await t.step("our encoding equals Python's byte for byte", () => {
        cases.forEach(([expr, value], i) =>
          assert.deepEqual(encodeMsgpack(value), python[i], expr)
        );
      });
      await t.step("Python decodes ours to equal values", async () => {
        const diffs = await py.run<(string | null)[]>(
          `
def tup(v):  # distributed decodes arrays as tuples (use_list=False)
    if isinstance(v, list):
        return tuple(tup(x) for x in v)
    if isinstance(v, dict):
        return {k: tup(x) for k, x in v.items()}
    return v
result = [strict_diff(msgpack.loads(b, use_list=False, **msgpack_opts), tup(eval(expr)))
          for b, expr in args["cases"]]
`,
          { cases: cases.map(([expr, v]) => [encodeMsgpack(v), expr]) },
        );
        cases.forEach(([expr], i) => assert.equal(diffs[i], null, `${expr}: ${diffs[i]}`));
      });
    } finally {
      await py.close();
    }
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
