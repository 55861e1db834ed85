import assert from "node:assert/strict";
import { DecodeFailed, EncodeFailed, RemoteSerializationFailed } from "../errors.ts";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";
import { NDArray } from "./numpy.ts";
import { PyException } from "./pickle/python_objects.ts";
import { loads } from "./pickle/reader.ts";
import { dumps } from "./pickle/writer.ts";
import { PyCall, PyFloat, pyGlobal, PyTuple, type PyValue } from "./pickle/python_values.ts";
import { deserialize, serialize, Serialized } from "./serialize.ts";
import { PythonCodecDriver } from "../testing/python_codec_driver.ts";

const nested = (a: unknown) => (a as NDArray).toNested();

Deno.test("serialize - chooses msgpack, dask or pickle by value", () => {
  assert.deepEqual(serialize([1, "a", { b: null }]).header, { serializer: "msgpack" });
  assert.deepEqual(serialize(new Map([[1, 2]])).header, { serializer: "msgpack" });
  assert.deepEqual(serialize(2n ** 63n).header, { serializer: "msgpack" });
  assert.deepEqual(serialize(2n ** 64n).header, { serializer: "pickle", writeable: [] });
  assert.deepEqual(serialize(new PyTuple([1])).header, { serializer: "pickle", writeable: [] });
  assert.deepEqual(serialize([new PyFloat(1)]).header, { serializer: "pickle", writeable: [] });
  assert.equal(serialize(Uint8Array.of(1)).header.type, "bytes");
  assert.equal(serialize(NDArray.from(new Float64Array(2))).header.type, "numpy.ndarray");
  const s = new Serialized({ serializer: "pickle", writeable: [] }, [dumps(1)]);
  assert.equal(serialize(s), s);
  assert.throws(() => serialize((() => 1) as unknown as PyValue), EncodeFailed);
  // Our own output reads back.
  for (
    const v of [
      [1, "a", { b: null }],
      new PyTuple([1, 2]),
      Uint8Array.of(5),
      new Set([1]),
    ] as PyValue[]
  ) {
    const expected = v instanceof PyTuple ? v.items : v;
    assert.deepEqual(deserialize(serialize(v)), expected);
  }
});

Deno.test("serialize - shards that are neighbours in one buffer join without a copy", () => {
  // A float64 array sharded in three, as a frame reader lays it out: one buffer, side by side.
  const values = Float64Array.from({ length: 30 }, (_, i) => i * 0.5);
  const { header } = serialize(NDArray.from(values));
  const bytes = new Uint8Array(values.buffer);
  const shards = [bytes.subarray(0, 80), bytes.subarray(80, 160), bytes.subarray(160)];
  const split = { ...header, "split-num-sub-frames": [3], "split-offsets": [0] };
  const joined = deserialize(new Serialized(split, shards)) as NDArray;
  assert.equal(joined.data.buffer, values.buffer, "the array views the received buffer");
  assert.deepEqual(Array.from(joined.data as Float64Array), Array.from(values));
  // Shards in separate buffers (or out of order) are copied into one.
  const apart = [bytes.slice(0, 80), bytes.slice(80, 160), bytes.slice(160)];
  const copied = deserialize(new Serialized(split, apart)) as NDArray;
  assert.notEqual(copied.data.buffer, values.buffer);
  assert.deepEqual(Array.from(copied.data as Float64Array), Array.from(values));
  const swapped = [shards[1], shards[0], shards[2]];
  const reordered = deserialize(new Serialized(split, swapped)) as NDArray;
  assert.equal(reordered.get(0), 10 * 0.5, "the second shard comes first");
});

Deno.test("serialize - malformed headers fail with DecodeFailed", () => {
  const one = [Uint8Array.of(0xc0)];
  const bad: [Record<string, unknown>, Uint8Array[], RegExp][] = [
    [{ serializer: "msgpack", compression: [null, null] }, one, /does not match 1 frames/],
    [
      { serializer: "msgpack", "split-num-sub-frames": [2], "split-offsets": [0] },
      one,
      /outside the 1 frames/,
    ],
    [{ serializer: "msgpack", "split-num-sub-frames": [1] }, one, /not matching lists/],
    [{ serializer: "cuda" }, one, /family "cuda" is not supported/],
    [{}, one, /family undefined/],
    [
      { serializer: "dask", type: "pandas.core.frame.DataFrame" },
      one,
      /pandas.core.frame.DataFrame" is not supported/,
    ],
    [{ serializer: "dask", type: "array", "sub-header": { typecode: "u" } }, one, /typecode "u"/],
    [
      { serializer: "dask", type: "array", "sub-header": { typecode: "d" } },
      one,
      /not a whole number/,
    ],
    [{ serializer: "pickle", writeable: [] }, [], /has no frames/],
    [
      {
        "is-collection": true,
        "sub-headers": [{}],
        "frame-lengths": [],
        "type-serialized": "list",
      },
      one,
      /mismatched/,
    ],
    [
      {
        "is-collection": true,
        "sub-headers": [],
        "frame-lengths": [],
        "type-serialized": "frozenset",
      },
      one,
      /"frozenset" is not list/,
    ],
    [
      {
        "is-collection": true,
        "sub-headers": [{ serializer: "msgpack" }],
        "frame-lengths": [2],
        "type-serialized": "list",
      },
      one,
      /beyond the 1 given/,
    ],
    [{ serializer: "msgpack", compression: ["zstd"] }, one, /compressed with "zstd"/],
  ];
  for (const [header, frames, message] of bad) {
    assert.throws(() => deserialize(new Serialized(header, frames)), (e: unknown) => {
      assert.ok(e instanceof DecodeFailed, `${JSON.stringify(header)}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
  let deep: Record<string, unknown> = { serializer: "msgpack" };
  for (let i = 0; i < 10; i++) {
    deep = {
      "is-collection": true,
      "sub-headers": [deep],
      "frame-lengths": [1],
      "type-serialized": "list",
    };
  }
  assert.throws(
    () => deserialize(new Serialized(deep, one), { maxDepth: 5 }),
    /nested deeper than 5/,
  );
  assert.deepEqual(deserialize(new Serialized(deep, one)), [[[[[[[[[[null]]]]]]]]]]);
});

Deno.test("serialize - golden vectors against distributed's serialize/deserialize", async (t) => {
  const py = await PythonCodecDriver.start();
  try {
    await py.run(`
import array
from distributed.protocol.compression import maybe_compress
def wire(header, frames):
    return [msgpack.dumps(header, use_bin_type=True), [bytes(f) for f in frames]]
`);
    /** Runs `expr` (setting `pair` = (header, frames)) and returns our Serialized. */
    const fromPython = async (code: string): Promise<Serialized> => {
      const [h, frames] = await py.run<[Uint8Array, Uint8Array[]]>(`${code}\nresult = wire(*pair)`);
      return new Serialized(decodeMsgpack(h) as Record<string, unknown>, frames);
    };

    await t.step("msgpack, pickle (with out-of-band buffers) and dask families", async () => {
      const mp = await fromPython(
        `pair = serialize({"a": [1, 2.5, None, "s", b"b"], 5: (1, 2)}, serializers=["msgpack"], iterate_collection=False)`,
      );
      assert.equal(mp.header.serializer, "msgpack");
      assert.deepEqual(
        deserialize(mp),
        new Map<unknown, unknown>([["a", [1, 2.5, null, "s", Uint8Array.of(98)]], [5, [1, 2]]]),
      );

      const f32 = await fromPython(`pair = serialize(np.float32(1.5), serializers=["pickle"])`);
      assert.equal(deserialize(f32), 1.5);

      const oob = await fromPython(
        `pair = serialize({"a": np.arange(3, dtype="i4"), "b": pickle.PickleBuffer(bytearray(b"x" * 100))}, serializers=["pickle"], iterate_collection=False)`,
      );
      assert.equal(oob.header.serializer, "pickle");
      assert.equal(oob.frames.length, 3, "numpy data and the buffer travel out of band");
      assert.deepEqual(oob.header.writeable, [true, true]);
      const o = deserialize(oob) as { a: NDArray; b: Uint8Array };
      assert.deepEqual(nested(o.a), [0, 1, 2]);
      assert.deepEqual(o.b, new Uint8Array(100).fill(120));

      const cases: [string, unknown][] = [
        [`pair = serialize(b"abc")`, Uint8Array.of(97, 98, 99)],
        [`pair = serialize(bytearray(b"xy"))`, Uint8Array.of(120, 121)],
        [`pair = serialize(memoryview(b"xyz"))`, Uint8Array.of(120, 121, 122)],
        [`pair = serialize(array.array("d", [1.5, -2]))`, Float64Array.of(1.5, -2)],
        [`pair = serialize(array.array("i", [7, -8]))`, Int32Array.of(7, -8)],
        [`pair = serialize(array.array("q", [2**62]))`, BigInt64Array.of(2n ** 62n)],
        [`pair = serialize(array.array("B", [1, 255]))`, Uint8Array.of(1, 255)],
      ];
      for (const [code, want] of cases) {
        const s = await fromPython(code);
        assert.equal(s.header.serializer, "dask", code);
        assert.deepEqual(deserialize(s), want, code);
      }
      const arr = await fromPython(`pair = serialize(np.arange(6, dtype="f8").reshape(2, 3))`);
      assert.deepEqual(nested(deserialize(arr)), [[0, 1, 2], [3, 4, 5]]);
    });

    await t.step("collections from to_serialize (iterate_collection=True)", async () => {
      const cases: [string, (v: unknown) => void][] = [
        [`[1, "a", np.arange(2, dtype="i4")]`, (v) => {
          const [a, b, c] = v as [number, string, NDArray];
          assert.deepEqual([a, b, nested(c)], [1, "a", [0, 1]]);
        }],
        [`(1, 2.5)`, (v) => assert.deepEqual(v, [1, 2.5])],
        [`{1, 2}`, (v) => assert.deepEqual(v, new Set([1, 2]))],
        [`{"a": 1, "b": np.arange(2, dtype="i4")}`, (v) => {
          const o = v as { a: number; b: NDArray };
          assert.deepEqual([o.a, nested(o.b)], [1, [0, 1]]);
        }],
        [
          `{1: "x", (2, 3): "y"}`,
          (v) => assert.deepEqual(v, new Map<unknown, unknown>([[1, "x"], [[2, 3], "y"]])),
        ],
        [`{"__proto__": [1]}`, (v) => assert.ok(Object.hasOwn(v as object, "__proto__"))],
        [`[]`, (v) => assert.deepEqual(v, [])],
      ];
      for (const serializers of [`None`, `["msgpack", "dask", "pickle"]`]) {
        for (const [expr, check] of cases) {
          const s = await fromPython(
            `pair = serialize(to_serialize(${expr}), serializers=${serializers})`,
          );
          assert.equal(s.header["is-collection"], true, expr);
          check(deserialize(s));
        }
      }
    });

    await t.step("split shards with per-wire-frame lz4 compression", async () => {
      const s = await fromPython(`
x = np.tile(np.arange(10, dtype="f8"), 3000)        # 240 000 bytes, compressible
header, frames = serialize_and_split(x, size=100_000)
assert header["split-num-sub-frames"] == (3,), header
codecs, out = [], []
for f in frames:
    c, f = maybe_compress(f, compression="lz4")
    codecs.append(c)
    out.append(f)
header["compression"] = tuple(codecs)
assert codecs == ["lz4"] * 3, codecs
pair = (header, out)
`);
      assert.equal(s.frames.length, 3);
      const a = deserialize(s) as NDArray;
      assert.equal(a.size, 30000);
      assert.equal(a.get(29999), 9);
      assert.equal(a.get(12345), 5);

      const plain = await fromPython(`
header, frames = serialize_and_split(b"0123456789" * 1000, size=3000)
assert header["split-num-sub-frames"] == (4,) and header["compression"] == (None,) * 4, header
pair = (header, frames)
`);
      assert.equal(
        new TextDecoder().decode(deserialize(plain) as Uint8Array),
        "0123456789".repeat(1000),
      );
    });

    await t.step("the error family raises RemoteSerializationFailed", async () => {
      const s = await fromPython(`pair = serialize(lambda: 1, serializers=["msgpack"])`);
      assert.throws(() => deserialize(s), (e: unknown) => {
        assert.ok(e instanceof RemoteSerializationFailed);
        assert.match(e.message, /Could not serialize object of type function/);
        return true;
      });
    });

    await t.step("our serialize output deserializes in Python to the intended values", async () => {
      const cases: [PyValue | NDArray, string][] = [
        [42, "42"],
        [1.5, "1.5"],
        ["s", "'s'"],
        [null, "None"],
        [[1, "a", [true]], "(1, 'a', (True,))"],
        [{ a: 1, b: [2.5] }, "{'a': 1, 'b': (2.5,)}"],
        [new Map<PyValue, PyValue>([[1, "x"], [[2, 3], "y"]]), "{1: 'x', (2, 3): 'y'}"],
        [2n ** 63n, "2**63"],
        [-(2n ** 63n), "-(2**63)"],
        [Uint8Array.of(1, 2), "b'\\x01\\x02'"],
        [
          NDArray.from(new Int16Array([1, 2, 3, 4]), [2, 2]),
          "np.array([[1, 2], [3, 4]], dtype='i2')",
        ],
        [new PyTuple([1, 2]), "(1, 2)"],
        [new PyFloat(2), "2.0"],
        [new Set([1, 2]), "{1, 2}"],
        [{ a: new PyTuple([1]) }, "{'a': (1,)}"],
        [new PyCall(pyGlobal("builtins.sum"), [[1, 2]]), "3"],
        [2n ** 70n, "2**70"],
      ];
      const diffs = await py.run<(string | null)[]>(
        `
result = []
for header_bytes, frames, expr in args["cases"]:
    header = msgpack.loads(header_bytes, use_list=False, **msgpack_opts)
    result.append(strict_diff(deserialize(header, frames), eval(expr)))
`,
        {
          cases: cases.map(([v, expr]) => {
            const s = serialize(v);
            return [encodeMsgpack(s.header), s.frames, expr];
          }),
        },
      );
      cases.forEach(([, expr], i) => assert.equal(diffs[i], null, `${expr}: ${diffs[i]}`));
    });

    await t.step("task-erred style exception: dask bytes holding a tblib pickle", async () => {
      const s = await fromPython(`
from distributed.core import error_message
try:
    1 / 0
except ZeroDivisionError as e:
    msg = error_message(e)
pair = serialize_and_split(msg["exception"])
`);
      const bytes = deserialize(s);
      assert.ok(bytes instanceof Uint8Array);
      const exc = loads(bytes);
      assert.ok(exc instanceof PyException);
      assert.equal(String(exc), "ZeroDivisionError: division by zero");
    });
  } finally {
    await py.close();
  }
});
