/**
 * Fuzz tests for every decoder of network bytes: mutated valid inputs must either decode or
 * fail with DecodeFailed — never another exception, never a hang — and outputs stay within the
 * configured limits. Fixed seeds; `DEDL_FUZZ_ITERATIONS=<n>` runs longer.
 */
import assert from "node:assert/strict";
import { DecodeFailed, RemoteSerializationFailed } from "../errors.ts";
import { lz4BlockDecompress } from "./lz4.ts";
import { decodeMessage, encodeMessage, ToPickle } from "./message.ts";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";
import { deserializeNumpy, NDArray, serializeNumpy } from "./numpy.ts";
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
import { fuzzIterations, SeededRandom } from "../testing/seeded_random.ts";

const ITERATIONS = fuzzIterations(2000);
const MAX_ITEMS = 50_000;
const MAX_OUTPUT = 1 << 20;

/** Runs `decode`; anything thrown must be a DecodeFailed (or pass `allowed`). */
function expectDecodeOrDecodeError(
  label: string,
  input: unknown,
  decode: () => unknown,
  allowed: (e: unknown) => boolean = () => false,
): unknown {
  try {
    return decode();
  } catch (e) {
    if (e instanceof DecodeFailed || allowed(e)) return undefined;
    throw new Error(`${label}: ${e} for input ${preview(input)}`, { cause: e });
  }
}

function preview(v: unknown): string {
  if (v instanceof Uint8Array) {
    return `[${[...v.subarray(0, 64)].map((b) => b.toString(16)).join(" ")}${
      v.length > 64 ? " …" : ""
    }] (${v.length} bytes)`;
  }
  try {
    return JSON.stringify(
      v,
      (_, x) => (x instanceof Uint8Array ? preview(x) : typeof x === "bigint" ? String(x) : x),
    ).slice(0, 400);
  } catch {
    return String(v);
  }
}

/** Random edits of a byte string: flips, overwrites with edge values, inserts, deletes, truncation. */
function mutate(rnd: SeededRandom, input: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let b = Array.from(input);
  const edits = 1 + rnd.int(4);
  const edge = [0, 1, 0x7f, 0x80, 0xfe, 0xff];
  for (let e = 0; e < edits; e++) {
    const at = rnd.int(b.length + 1);
    switch (rnd.int(7)) {
      case 0:
        if (b.length) b[at % b.length] ^= 1 << rnd.int(8);
        break;
      case 1:
        if (b.length) b[at % b.length] = rnd.int(256);
        break;
      case 2:
        if (b.length) b[at % b.length] = edge[rnd.int(edge.length)];
        break;
      case 3:
        b.splice(at, 0, ...rnd.bytes(1 + rnd.int(8)));
        break;
      case 4:
        b.splice(at, 1 + rnd.int(8));
        break;
      case 5:
        b = b.slice(0, at);
        break;
      case 6: {
        const other = corpus[rnd.int(corpus.length)];
        const from = rnd.int(other.length + 1);
        b.splice(at, 0, ...other.subarray(from, from + 1 + rnd.int(32)));
        break;
      }
    }
  }
  return Uint8Array.from(b);
}

/** Container slots in a decoded value, each shared object counted once. */
function countItems(v: unknown, seen = new Set<unknown>()): number {
  if (v === null || typeof v !== "object" || seen.has(v)) return 0;
  seen.add(v);
  let n = 0;
  if (Array.isArray(v)) { for (const x of v) n += 1 + countItems(x, seen); }
  else if (v instanceof Map) {
    for (const [k, x] of v) n += 2 + countItems(k, seen) + countItems(x, seen);
  } else if (v instanceof Set) { for (const x of v) n += 1 + countItems(x, seen); }
  else if (!ArrayBuffer.isView(v) && !(v instanceof NDArray)) {
    for (const x of Object.values(v)) n += 1 + countItems(x, seen);
  }
  return n;
}

function pickleCorpus(): Uint8Array[] {
  const g = (m: string, n: string) => new PyGlobal(m, n);
  const dtype = (code: string) => new PyCall(g("numpy", "dtype"), [code, false, true]);
  const values: PyValue[] = [
    null,
    [1, -1, 300, 70000, 2 ** 40, 2n ** 80n, "s", "é✓", Uint8Array.of(1, 2), new PyFloat(1.5)],
    {
      a: new PyTuple([1, 2]),
      b: new Map<PyValue, PyValue>([[new PyTuple(["x", 0]), new PySet([1, 2])]]),
    },
    new PyCall(pyGlobal("dask._expr:Expr._reconstruct"), [
      pyGlobal("dask._expr.LLGExpr"),
      { x: new PyCall(pyGlobal("dask._task_spec.Task"), ["x", pyGlobal("operator.add"), 1, 2]) },
      "t",
      {},
    ]),
    new PyCall(g("numpy._core.multiarray", "scalar"), [dtype("f8"), new Uint8Array(8).fill(0x3f)]),
    new PyCall(g("numpy._core.numeric", "_frombuffer"), [
      new Uint8Array(24),
      dtype("i4"),
      new PyTuple([2, 3]),
      "C",
    ]),
    new PyCall(g("tblib.pickling_support", "unpickle_exception"), [
      g("builtins", "ValueError"),
      new PyTuple(["bad"]),
      null,
      new PyCall(g("tblib.pickling_support", "unpickle_traceback"), [null, 3, null]),
      null,
      false,
      null,
    ]),
    new PyCall(g("builtins", "KeyError"), [new PyTuple(["k"])]),
    new PyCall(g("collections", "OrderedDict"), [[new PyTuple(["a", 1])]]),
    new PyCall(g("builtins", "set"), [[1, 2, 3]]),
    new PyCall(g("_codecs", "encode"), ["abc", "latin1"]),
    new PyCall(g("copyreg", "_reconstructor"), [
      g("argparse", "Namespace"),
      g("builtins", "object"),
      null,
    ]),
    Array.from({ length: 50 }, (_, i) => [i, String(i)]),
  ];
  const corpus = values.map((v) => dumps(v));
  // Protocol 0–2 style opcodes, memo and BUILD, written by hand.
  const text = (s: string) => Array.from(new TextEncoder().encode(s));
  corpus.push(Uint8Array.from([
    ...text(
      "(lp0\nI1\naF2.5\naS'a\\n'\np1\naVx\\u20ac\naL12345678901234567890L\nag1\na(dp2\nS'k'\nI01\nsa",
    ),
    ...text("cargparse\nNamespace\n)"),
    0x81,
    0x7d,
    0x94,
    0x28,
    0x8c,
    0x01,
    0x61,
    0x4b,
    0x01,
    0x75,
    0x62,
    0x30,
    0x2e,
  ]));
  // numpy protocol ≤ 4 array: _reconstruct + BUILD state.
  corpus.push(Uint8Array.from([
    0x80,
    4,
    0x8c,
    22,
    ...text("numpy._core.multiarray"),
    0x8c,
    12,
    ...text("_reconstruct"),
    0x93,
    0x8c,
    5,
    ...text("numpy"),
    0x8c,
    7,
    ...text("ndarray"),
    0x93,
    0x4b,
    0,
    0x85,
    0x43,
    1,
    0x62,
    0x87,
    0x52,
    0x28,
    0x4b,
    1,
    0x4b,
    2,
    0x85,
    0x8c,
    5,
    ...text("numpy"),
    0x8c,
    5,
    ...text("dtype"),
    0x93,
    0x8c,
    2,
    ...text("f8"),
    0x89,
    0x88,
    0x87,
    0x52,
    0x28,
    0x4b,
    3,
    0x8c,
    1,
    0x3c,
    0x4e,
    0x4e,
    0x4e,
    0x4a,
    0xff,
    0xff,
    0xff,
    0xff,
    0x4a,
    0xff,
    0xff,
    0xff,
    0xff,
    0x4b,
    0,
    0x74,
    0x62,
    0x89,
    0x43,
    16,
    ...new Array(16).fill(0x11),
    0x74,
    0x62,
    0x2e,
  ]));
  return corpus;
}

Deno.test("fuzz - pickle reader", () => {
  const rnd = new SeededRandom(0x5eed01);
  const corpus = pickleCorpus();
  for (const c of corpus) assert.doesNotThrow(() => loads(c), preview(c));
  const buffers = [new Uint8Array(24), new Uint8Array(3)];
  for (let i = 0; i < ITERATIONS; i++) {
    const input = i % 10 === 0
      ? rnd.bytes(rnd.int(64))
      : mutate(rnd, corpus[rnd.int(corpus.length)], corpus);
    const out = expectDecodeOrDecodeError(
      "pickle",
      input,
      () => loads(input, { buffers, maxDepth: 64, maxOutputItems: MAX_ITEMS }),
    );
    assert.ok(countItems(out) <= 2 * MAX_ITEMS, "output within maxOutputItems");
  }
});

function msgpackCorpus(): Uint8Array[] {
  return [
    encodeMsgpack({ op: "x", n: [0, -1, 127, 128, 65536, 2 ** 33, -(2 ** 40), 2n ** 63n, 1.5] }),
    encodeMsgpack(
      new Map<unknown, unknown>([[["x", 0], ["tcp://a:1"]], [1, null], ["s", Uint8Array.of(1, 2)]]),
    ),
    encodeMsgpack([
      "a".repeat(40),
      "é".repeat(20),
      new Uint8Array(300),
      Array.from({ length: 20 }, (_, i) => i),
    ]),
    encodeMsgpack({ nested: [[[[{ a: [true, false, null] }]]]] }),
  ];
}

Deno.test("fuzz - msgpack decoder", () => {
  const rnd = new SeededRandom(0x5eed02);
  const corpus = msgpackCorpus();
  for (let i = 0; i < ITERATIONS; i++) {
    const input = i % 10 === 0
      ? rnd.bytes(rnd.int(64))
      : mutate(rnd, corpus[rnd.int(corpus.length)], corpus);
    const out = expectDecodeOrDecodeError(
      "msgpack",
      input,
      () => decodeMsgpack(input, { maxDepth: 32 }),
    );
    assert.ok(countItems(out) <= 2 * input.length, "msgpack output is bounded by its input");
  }
});

Deno.test("fuzz - message decoder", () => {
  const rnd = new SeededRandom(0x5eed03);
  const messages = [
    encodeMessage({
      op: "update-graph",
      expr_ser: new Serialized({ serializer: "pickle", writeable: [] }, [dumps([1, 2])]),
      keys: new Set(["x"]),
      meta: new ToPickle({ a: new PyTuple([1]) }),
    }),
    encodeMessage([{
      op: "key-in-memory",
      key: ["x", 0],
      type: dumps(new PyGlobal("builtins", "int")),
    }]),
    encodeMessage({
      data: { k: serialize(NDArray.from(new Float64Array([1, 2, 3]))) },
      status: "OK",
    }),
  ];
  const flat = messages.flat();
  for (let i = 0; i < ITERATIONS; i++) {
    const frames = messages[rnd.int(messages.length)].slice();
    const k = rnd.int(frames.length);
    frames[k] = mutate(rnd, frames[k], flat);
    if (rnd.int(8) === 0) frames.splice(rnd.int(frames.length), 1);
    const out = expectDecodeOrDecodeError(
      "message",
      frames,
      () => decodeMessage(frames, { maxDepth: 32, maxOutputItems: MAX_ITEMS }),
    );
    // Decoded Serialized values must deserialize or fail cleanly too.
    const visit = (v: unknown, depth: number): void => {
      if (depth > 40 || v === null || typeof v !== "object") return;
      if (v instanceof Serialized) {
        expectDecodeOrDecodeError(
          "message payload",
          v,
          () => deserialize(v, { maxOutputItems: MAX_ITEMS, maxFrameBytes: MAX_OUTPUT }),
          (e) => e instanceof RemoteSerializationFailed,
        );
        return;
      }
      for (const x of v instanceof Map ? v.values() : Object.values(v)) visit(x, depth + 1);
    };
    visit(out, 0);
  }
});

Deno.test("fuzz - lz4 block decoder", () => {
  const rnd = new SeededRandom(0x5eed04);
  // Valid blocks: literal-only runs and overlapping matches, built by hand.
  const corpus = [
    Uint8Array.of(0x2f, 0, 0, 0, 0x1f, 0x61, 0x01, 0x00, 0x16, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61),
    Uint8Array.of(17, 1, 0, 0, 0xf0, 255, 3, ...new Uint8Array(273).fill(5)),
    Uint8Array.of(13, 0, 0, 0, 0x32, 1, 2, 3, 3, 0, 0x40, 7, 7, 7, 7),
  ];
  for (const c of corpus) assert.doesNotThrow(() => lz4BlockDecompress(c), preview(c));
  for (let i = 0; i < ITERATIONS * 2; i++) {
    const input = i % 10 === 0
      ? rnd.bytes(rnd.int(64))
      : mutate(rnd, corpus[rnd.int(corpus.length)], corpus);
    const out = expectDecodeOrDecodeError(
      "lz4",
      input,
      () => lz4BlockDecompress(input, { maxOutput: 4096 }),
    );
    if (out instanceof Uint8Array) assert.ok(out.length <= 4096, "output within maxOutput");
  }
});

Deno.test("fuzz - numpy deserializer", () => {
  const rnd = new SeededRandom(0x5eed05);
  const dtypes = [
    "<f8",
    ">f8",
    "|b1",
    "<i8",
    "<u2",
    "<f2",
    "<c16",
    "<M8[ns]",
    "<U3",
    "|S2",
    "|O",
    "<V8",
    "<f16",
    "x",
    "<i3",
  ];
  const ints = [0, 1, 2, 3, -1, 8, 16, 24, 1 << 30, 2 ** 53, -8, 0.5];
  const pick = <T>(a: T[]) => a[rnd.int(a.length)];
  for (let i = 0; i < ITERATIONS; i++) {
    const ndim = rnd.int(4);
    const shape = Array.from({ length: ndim }, () => pick(ints));
    const strides = Array.from({ length: ndim + (rnd.int(6) === 0 ? 1 : 0) }, () => pick(ints));
    const sub: Record<string, unknown> = {
      dtype: rnd.int(10) === 0 ? [1, Uint8Array.of(1)] : [0, pick(dtypes)],
      shape,
      strides,
      writeable: [true],
    };
    if (rnd.int(4) === 0) sub.broadcast_to = Array.from({ length: ndim }, () => pick(ints));
    const frame = new Uint8Array(rnd.int(100));
    const header = { serializer: "dask", type: "numpy.ndarray", "sub-header": sub };
    const out = expectDecodeOrDecodeError("numpy", header, () => deserializeNumpy(header, [frame]));
    // Small accepted arrays (nested lists stay small too: empty arrays may have huge axes).
    if (out instanceof NDArray && out.shape.every((n) => n <= 1000) && out.size <= 1000) {
      out.toNested(); // every element of an accepted array is readable
      const again = serializeNumpy(out);
      assert.deepEqual(deserializeNumpy(again.header, again.frames).toNested(), out.toNested());
    }
  }
});

Deno.test("fuzz - serialized headers (families, collections, shards, compression)", () => {
  const rnd = new SeededRandom(0x5eed06);
  const frames = [
    encodeMsgpack([1, "a"]),
    dumps(new PyTuple([1, 2])),
    Uint8Array.of(0x2f, 0, 0, 0, 0x1f, 0x61, 0x01, 0x00, 0x16, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61),
    new Uint8Array(16),
    new TextEncoder().encode("Could not serialize"),
  ];
  const pick = <T>(a: T[]) => a[rnd.int(a.length)];
  const leaf = (): Record<string, unknown> =>
    pick([
      { serializer: "msgpack" },
      { serializer: "pickle", writeable: [] },
      { serializer: "dask", type: "bytes", "sub-header": {} },
      { serializer: "dask", type: "array", "sub-header": { typecode: pick(["d", "b", "q", "z"]) } },
      {
        serializer: "dask",
        type: "numpy.ndarray",
        "sub-header": { dtype: [0, "<f8"], shape: [2], strides: [8], writeable: [true] },
      },
      { serializer: "error" },
      { serializer: pick(["cuda", null, 3]) },
    ]);
  const header = (depth: number): Record<string, unknown> => {
    if (depth > 2 || rnd.int(3) > 0) return leaf();
    const n = rnd.int(4);
    return {
      "is-collection": true,
      "sub-headers": Array.from(
        { length: n },
        () => ({ ...header(depth + 1), key: pick(["k", 1, ["t", 0]]) }),
      ),
      "frame-lengths": Array.from(
        { length: n + (rnd.int(5) === 0 ? 1 : 0) },
        () => pick([0, 1, 2, -1, 9]),
      ),
      "type-serialized": pick(["list", "tuple", "set", "dict", "str"]),
    };
  };
  for (let i = 0; i < ITERATIONS; i++) {
    const h = header(0);
    const fs = Array.from({ length: rnd.int(5) }, () => pick(frames));
    if (rnd.int(3) === 0) {
      h.compression = Array.from(
        { length: fs.length + (rnd.int(5) === 0 ? 1 : 0) },
        () => pick([null, "lz4", "zlib", "zstd", false]),
      );
    }
    if (rnd.int(4) === 0) {
      h["split-num-sub-frames"] = [pick([0, 1, 2, 5])];
      h["split-offsets"] = [pick([0, 1, 3, -1])];
    }
    expectDecodeOrDecodeError(
      "deserialize",
      h,
      () =>
        deserialize(new Serialized(h, fs), {
          maxDepth: 16,
          maxOutputItems: MAX_ITEMS,
          maxFrameBytes: MAX_OUTPUT,
        }),
      (e) => e instanceof RemoteSerializationFailed,
    );
  }
});
