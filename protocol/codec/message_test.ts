import assert from "node:assert/strict";
import { DecodeFailed, EncodeFailed } from "../errors.ts";
import { decodeMessage, encodeMessage, ToPickle } from "./message.ts";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";
import { NDArray } from "./numpy.ts";
import type { PyException } from "./pickle/python_objects.ts";
import { loads } from "./pickle/reader.ts";
import { dumps } from "./pickle/writer.ts";
import {
  PyCall,
  PyFloat,
  PyGlobal,
  pyGlobal,
  PySet,
  PyTuple,
  type PyValue,
} from "./pickle/python_values.ts";
import { deserialize, serialize, Serialized } from "./serialize.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../testing/python_codec_driver.ts";

const nested = (a: unknown) => (a as NDArray).toNested();

/** The update-graph message of `docs/wire-protocol.md`, "Graphs by release", around a pickle. */
function updateGraph(pickle: Uint8Array): unknown {
  return [{
    op: "update-graph",
    expr_ser: new Serialized({ serializer: "pickle", writeable: [] }, [pickle]),
    keys: ["x"],
    span_metadata: {},
    internal_priority: null,
    submitting_task: null,
  }];
}

Deno.test("message - placeholders, sub-headers and zero-copy payload frames", () => {
  const payload = new Uint8Array(1 << 20).fill(3);
  const frames = encodeMessage({
    op: "scatter",
    data: { k: new Serialized({ serializer: "dask", type: "bytes", "sub-header": {} }, [payload]) },
    keys: new Set(["k"]),
    meta: new ToPickle(new PyTuple([1])),
    skipped: undefined,
  });
  assert.equal(frames.length, 4);
  assert.equal(frames[2], payload, "payload frames are passed through, not copied");
  assert.deepEqual(decodeMsgpack(frames[0]), {
    op: "scatter",
    data: { k: { __Serialized__: 1 } },
    keys: { __Set__: true, "as-list": ["k"] },
    meta: { __Pickled__: 3 },
  });
  assert.deepEqual(decodeMsgpack(frames[1]), {
    serializer: "dask",
    type: "bytes",
    "sub-header": {},
    "num-sub-frames": 1,
  });
  const back = decodeMessage(frames) as Record<string, unknown>;
  const s = (back.data as Record<string, Serialized>).k;
  assert.ok(s instanceof Serialized);
  assert.deepEqual(s.header, { serializer: "dask", type: "bytes", "sub-header": {} });
  assert.equal(s.frames[0], payload);
  assert.deepEqual(back.keys, new Set(["k"]));
  assert.deepEqual(back.meta, [1]);
});

Deno.test("message - model values map to msgpack forms", () => {
  const frames = encodeMessage({
    f: new PyFloat(5),
    t: new PyTuple([1, "a"]),
    s: new PySet([1]),
    m: new Map<unknown, unknown>([[new PyTuple(["x", 0]), 1]]),
    big: 2n ** 62n,
    call: new PyCall(pyGlobal("builtins.len"), [[1, 2]]),
    g: new PyGlobal("builtins", "int"),
    arr: NDArray.from(new Float64Array([1, 2])),
  });
  const m = decodeMessage(frames) as Record<string, unknown>;
  assert.equal(m.f, 5);
  assert.deepEqual(frames[0].subarray(3, 12), Uint8Array.of(0xcb, 0x40, 0x14, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(m.t, [1, "a"]);
  assert.deepEqual(m.s, new Set([1]));
  assert.deepEqual(m.m, new Map([[["x", 0], 1]]));
  assert.equal(m.big, 2n ** 62n);
  // Calls are only described by the safe reader, never run.
  assert.equal((m.call as { name: string }).name, "len");
  assert.deepEqual(m.g, new PyGlobal("builtins", "int"));
  assert.deepEqual(nested(deserialize(m.arr as Serialized)), [1, 2]);
  assert.throws(() => encodeMessage({ f: () => 1 }), EncodeFailed);
  assert.throws(() => encodeMessage({ d: new Date() }), /cannot encode a Date object/);
});

Deno.test("message - malformed placeholders fail with DecodeFailed", () => {
  const m = (v: unknown) => encodeMsgpack(v);
  const sub = m({ serializer: "msgpack", "num-sub-frames": 1 });
  const bad: [Uint8Array[], RegExp][] = [
    [[], /no frames/],
    [[m({ x: { __Serialized__: 1 } })], /points at frame 1, but the message has 1/],
    [[m({ x: { __Serialized__: 0 } }), sub], /points at frame 0/],
    [[m({ x: { __Serialized__: 1 } }), sub], /claims 1 frames; the message has 2/],
    [[m({ x: { __Serialized__: 1 } }), m([1])], /not a map with string keys/],
    [[m({ x: { __Pickled__: 1 } }), m({ "num-sub-frames": 0 })], /no "pickled-obj"/],
    [
      [
        m({ x: { __Pickled__: 1 } }),
        m({ "pickled-obj": Uint8Array.of(0xff), "num-sub-frames": 0 }),
      ],
      /unknown opcode/,
    ],
    [[m({ __Set__: true })], /without an "as-list"/],
    [[
      m({ x: { __Serialized__: 1 } }),
      m({ a: { __Serialized__: true, data: 1 }, "num-sub-frames": 0 }),
    ], /no \[header, frames\]/],
    [[Uint8Array.of(0xc1)], /0xc1/],
  ];
  for (const [frames, message] of bad) {
    assert.throws(() => decodeMessage(frames), (e: unknown) => {
      assert.ok(e instanceof DecodeFailed, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});

// DEDL's stack (msgpack 1.0.5, numpy 1.26, distributed 2023.8.0) and the newest.
for (const era of CODEC_ERAS) {
  Deno.test(`message - golden vectors against distributed.protocol dumps/loads (${era})`, async (t) => {
    const py = await PythonCodecDriver.start(era);
    try {
      await t.step("Python dumps → decodeMessage", async () => {
        const frames = await py.run<Uint8Array[]>(`
msg = {
    "op": "x",
    "set": {1, 2},
    "tuple_keys": {("x", 0): ["a"], "s": 1},
    "big": 2**60, "neg": -(2**63), "f": 1.5, "b": b"raw",
    "nested": [{"k": None}],
    "pickled": ToPickle({"a": (1, 2), "e": KeyError("k")}),
    "ser": to_serialize(np.arange(4, dtype="i4")),
    "coll": to_serialize([1, "a", np.arange(2, dtype="i4")]),
}
result = [bytes(f) for f in dumps(msg)]
`);
        const m = decodeMessage(frames) as Record<string, unknown>;
        assert.equal(m.op, "x");
        assert.deepEqual(m.set, new Set([1, 2]));
        assert.deepEqual(m.tuple_keys, new Map<unknown, unknown>([[["x", 0], ["a"]], ["s", 1]]));
        assert.equal(m.big, 2n ** 60n);
        assert.equal(m.neg, -(2n ** 63n));
        assert.equal(m.f, 1.5);
        assert.deepEqual(m.b, new TextEncoder().encode("raw"));
        assert.deepEqual(m.nested, [{ k: null }]);
        const pickled = m.pickled as { a: unknown; e: PyException };
        assert.deepEqual(pickled.a, [1, 2]);
        assert.equal(String(pickled.e), "KeyError: 'k'");
        assert.ok(m.ser instanceof Serialized, "Serialized stays serialized until asked");
        assert.deepEqual(nested(deserialize(m.ser)), [0, 1, 2, 3]);
        const [one, a, arr] = deserialize(m.coll as Serialized) as [number, string, NDArray];
        assert.deepEqual([one, a, nested(arr)], [1, "a", [0, 1]]);
      });

      await t.step(
        "split and lz4-compressed frames from a small distributed.comm.shard",
        async () => {
          const frames = await py.run<Uint8Array[]>(`
import dask
from dask.utils import parse_bytes
with dask.config.set({"distributed.comm.shard": "20kB"}):
    shard = parse_bytes(dask.config.get("distributed.comm.shard"))   # as TCP does
    frames = dumps({"data": to_serialize(np.tile(np.arange(10, dtype="f8"), 1_000))},
                   context={"compression": "lz4"}, frame_split_size=shard)
header = msgpack.loads(frames[1], **msgpack_opts)
assert header["split-num-sub-frames"] == [4] and header["compression"] == ["lz4"] * 4, header
result = [bytes(f) for f in frames]
`);
          const m = decodeMessage(frames) as { data: Serialized };
          assert.equal(m.data.frames.length, 4);
          assert.deepEqual(m.data.header.compression, ["lz4", "lz4", "lz4", "lz4"]);
          const arr = deserialize(m.data) as NDArray;
          assert.equal(arr.size, 10_000);
          assert.equal(arr.get(9_999), 9);
          assert.equal(arr.get(5_432), 2);
        },
      );

      await t.step("a task-erred batch with a tblib exception", async () => {
        const frames = await py.run<Uint8Array[]>(`
from distributed.core import error_message
try:
    {}["missing"]
except KeyError as e:
    err = error_message(e)
result = [bytes(f) for f in dumps([{"op": "task-erred", "key": ("x", 0), "exception": err["exception"],
                                     "traceback": err["traceback"]},
                                    {"op": "key-in-memory", "key": "y", "type": pickle.dumps(int)}])]
`);
        const [erred, inMemory] = decodeMessage(frames) as Record<string, unknown>[];
        assert.deepEqual(erred.key, ["x", 0]);
        const exc = loads(deserialize(erred.exception as Serialized) as Uint8Array) as PyException;
        assert.equal(String(exc), "KeyError: 'missing'");
        assert.match(exc.traceback ?? "", /^ {2}File ".*", line \d+, in <module>$/);
        assert.match(
          loads(deserialize(erred.traceback as Serialized) as Uint8Array) as string,
          /^ {2}File /,
        );
        assert.deepEqual(loads(inMemory.type as Uint8Array), new PyGlobal("builtins", "int"));
      });

      await t.step("encodeMessage → Python loads, with and without deserialization", async () => {
        const arr = NDArray.from(new Int32Array([1, 2, 3]));
        const msg = {
          op: "update-graph",
          keys: new Set(["x"]),
          tuple_keys: new Map<unknown, unknown>([[new PyTuple(["x", 0]), 1]]),
          f: new PyFloat(2),
          big: 2n ** 62n,
          neg: -5,
          bin: Uint8Array.of(0, 255),
          list: [1, [2]],
          pickled: new ToPickle({ a: new PyTuple([1]) }),
          call: new PyCall(pyGlobal("builtins.sum"), [[1, 2]]),
          ser: serialize(arr),
          ser_msgpack: serialize({ a: 1 }),
          ser_pickle: serialize(new PyTuple([1, 2]) as PyValue),
        };
        const got = await py.run<(string | null)[]>(
          `
want = {"op": "update-graph", "keys": {"x"}, "tuple_keys": {("x", 0): 1}, "f": 2.0, "big": 2**62,
        "neg": -5, "bin": b"\\x00\\xff", "list": (1, (2,)), "pickled": {"a": (1,)}, "call": 3,
        "ser": np.array([1, 2, 3], dtype="i4"), "ser_msgpack": {"a": 1}, "ser_pickle": (1, 2)}
frames = [bytearray(f) for f in args["frames"]]   # writable, as comm frames are
full = loads(frames)
lazy = loads(frames, deserialize=False)
result = [strict_diff(full, want),
          None if isinstance(lazy["ser"], Serialized) and lazy["ser"].header["type"] == "numpy.ndarray" else repr(lazy["ser"]),
          strict_diff(lazy["pickled"], {"a": (1,)})]
`,
          { frames: encodeMessage(msg) },
        );
        assert.deepEqual(got, [null, null, null]);
      });

      await t.step(
        "the LLGExpr update-graph frames are byte-identical to Python's dumps",
        async () => {
          const task = new PyCall(pyGlobal("dask._task_spec.Task"), [
            "x",
            pyGlobal("operator.add"),
            1,
            2,
          ]);
          const pickle = dumps(
            new PyCall(pyGlobal("dask._expr:Expr._reconstruct"), [
              pyGlobal("dask._expr.LLGExpr"),
              { x: task },
              "t",
              {},
            ]),
          );
          const ours = encodeMessage(updateGraph(pickle));
          assert.deepEqual(ours.map((f) => f.length), [103, 46, 120]);
          const python = await py.run<Uint8Array[]>(
            `
msg = [{"op": "update-graph", "expr_ser": Serialized({"serializer": "pickle", "writeable": ()}, [args["pickle"]]),
        "keys": ["x"], "span_metadata": {}, "internal_priority": None, "submitting_task": None}]
frames = dumps(msg)
back = loads([bytearray(f) for f in args["ours"]], deserialize=False)
assert back[0]["expr_ser"].header == {"serializer": "pickle", "writeable": (), "num-sub-frames": 1}, back
result = [bytes(f) for f in frames]
`,
            { pickle, ours },
          );
          assert.deepEqual(ours, python);
        },
      );
    } finally {
      await py.close();
    }
  });
}
