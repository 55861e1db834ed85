import assert from "node:assert/strict";
import { DecodeFailed, InvalidArray } from "../errors.ts";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.ts";
import { deserializeNumpy, NDArray, serializeNumpy } from "./numpy.ts";
import { CODEC_ERAS, PythonCodecDriver } from "../testing/python_codec_driver.ts";

/** dtype, shape and values (bigints as decimal strings) for comparison with Python's summary. */
function summary(a: NDArray): unknown {
  const plain = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(plain) : typeof v === "bigint" ? String(v) : v;
  return [a.dtype, a.shape, plain(a.toNested())];
}

/** Python helper: the same summary for a numpy array. */
const PY_SUMMARY = `
def summary(a):
    deep = lambda v, f: [deep(x, f) for x in v] if isinstance(v, list) else f(v)
    values = a.tolist()
    if a.dtype.kind in 'Mm':
        values = deep(a.astype('i8').tolist(), str)
    elif a.dtype.kind in 'iu' and a.dtype.itemsize == 8:
        values = deep(values, str)
    elif a.dtype.kind == 'c':
        values = deep(values, lambda z: [z.real, z.imag])
    dt = a.dtype.newbyteorder('<') if a.dtype.byteorder == '>' else a.dtype
    return [dt.str, list(a.shape), values]
`;

Deno.test("numpy - NDArray indexing, nesting and layouts", () => {
  const c = NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.equal(c.dtype, "<f8");
  assert.deepEqual(c.strides, [24, 8]);
  assert.equal(c.order, "C");
  assert.equal(c.get(1, 2), 6);
  assert.deepEqual(c.toNested(), [[1, 2, 3], [4, 5, 6]]);

  const f = NDArray.from(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3], { order: "F" });
  assert.equal(f.order, "F");
  assert.deepEqual(f.strides, [4, 8]);
  assert.deepEqual(f.toNested(), [[1, 3, 5], [2, 4, 6]]);

  const b = NDArray.from(Uint8Array.of(1, 0, 2), [3], { dtype: "|b1" });
  assert.deepEqual(b.toNested(), [true, false, true]);
  const zero = NDArray.from(new Float64Array([2.5]), []);
  assert.equal(zero.toNested(), 2.5);
  assert.equal(zero.get(), 2.5);
  const cplx = NDArray.from(new Float64Array([1, 2, 3, 4]), [2], { dtype: "<c16" });
  assert.deepEqual(cplx.toNested(), [[1, 2], [3, 4]]);
  const big = NDArray.from(new BigInt64Array([-(2n ** 62n)]));
  assert.equal(big.dtype, "<i8");
  assert.equal(big.get(0), -(2n ** 62n));
  // A broadcast view: one row repeated by a zero stride.
  const bc = new NDArray("<i2", [3, 2], [0, 2], Int16Array.of(7, 8));
  assert.deepEqual(bc.toNested(), [[7, 8], [7, 8], [7, 8]]);

  assert.throws(() => c.get(2, 0), InvalidArray);
  assert.throws(() => c.get(0), InvalidArray);
  assert.throws(() => NDArray.from(new Float64Array(5), [2, 3]), InvalidArray);
  assert.throws(() => NDArray.from(new Float64Array(2), [2], { dtype: "<i8" }), InvalidArray);
  assert.throws(
    () => new NDArray("<f8", [3], [8], new Float64Array(2)),
    /needs 24 bytes, data has 16/,
  );
  assert.throws(() => NDArray.from(new Float64Array(1), [1], { dtype: "|O" }), /not supported/);
});

Deno.test("numpy - fromBytes converts big-endian data and copies unaligned bytes", () => {
  const be = Uint8Array.of(0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0);
  const a = NDArray.fromBytes(be, ">f8", [2]);
  assert.equal(a.dtype, "<f8");
  assert.deepEqual(a.toNested(), [1, 2]);
  const buf = new Uint8Array(9);
  new DataView(buf.buffer).setFloat64(1, 1.5, true);
  const unaligned = NDArray.fromBytes(buf.subarray(1), "<f8", []);
  assert.equal(unaligned.get(), 1.5);
  const text = NDArray.fromBytes(
    new Uint8Array(new Uint32Array([0x61, 0x1f600, 0, 0x62, 0, 0]).buffer),
    "<U3",
    [2],
  );
  assert.deepEqual(text.toNested(), ["a😀", "b"]);
  assert.throws(() => NDArray.fromBytes(new Uint8Array(15), "<f8", [2]), DecodeFailed);
  assert.throws(() => NDArray.fromBytes(new Uint8Array(16), "<V16", [1]), /not supported/);
});

Deno.test("numpy - deserializeNumpy rejects headers it cannot honour", () => {
  const { header, frames } = serializeNumpy(NDArray.from(new Float64Array([1, 2])));
  const sub = header["sub-header"] as Record<string, unknown>;
  const withSub = (s: Record<string, unknown>) => ({ ...header, "sub-header": { ...sub, ...s } });
  assert.throws(() => deserializeNumpy(withSub({ pickle: true }), frames), /dtype object/);
  assert.throws(
    () => deserializeNumpy(withSub({ dtype: [1, new Uint8Array(3)] }), frames),
    /custom dtype/,
  );
  assert.throws(
    () => deserializeNumpy(withSub({ shape: [3] }), frames),
    /needs 24 bytes, data has 16/,
  );
  assert.throws(() => deserializeNumpy(withSub({ strides: [8, 8] }), frames), /do not match shape/);
  assert.throws(() => deserializeNumpy(withSub({ shape: "x" }), frames), /bad shape/);
  assert.throws(() => deserializeNumpy(header, [...frames, ...frames]), /exactly one frame/);
  assert.throws(() => deserializeNumpy({}, frames), /no "sub-header"/);
});

// DEDL's stack (msgpack 1.0.5, numpy 1.26, distributed 2023.8.0) and the newest.
for (const era of CODEC_ERAS) {
  Deno.test(`numpy - golden vectors against distributed's numpy serializer (${era})`, async (t) => {
    const py = await PythonCodecDriver.start(era);
    try {
      await py.run(PY_SUMMARY);

      await t.step("arrays serialized by Python decode to equal values", async () => {
        const exprs = [
          "np.arange(12, dtype='f8').reshape(3, 4)",
          "np.arange(-6, 6, dtype='i4').reshape(3, 4)",
          "np.array([[True, False], [False, True]])",
          "np.asfortranarray(np.arange(6, dtype='f4').reshape(2, 3))",
          "np.arange(12, dtype='i8').reshape(3, 4).T",
          "np.array(5.5)",
          "np.array(['2020-01-01T00:00', 'NaT', '1969-12-31'], dtype='M8[ns]')",
          "np.array([1, -2], dtype='m8[s]')",
          "np.broadcast_to(np.arange(3, dtype='i2'), (4, 3))",
          "np.broadcast_to(np.arange(3, dtype='u2')[:, None], (3, 5))",
          "np.arange(24, dtype='i4').reshape(4, 6)[:, ::2]",
          "np.arange(6, dtype='>f8')",
          "np.array([0, 255], dtype='u1')",
          "np.array([2**64 - 1, 3], dtype='u8')",
          "np.array([0.5, -2], dtype='f2')",
          "np.array([1 + 2j, -0.5j], dtype='c16')",
          "np.array(['ab', 'xyz', ''], dtype='U3')",
          "np.array([b'ab', b'c'], dtype='S2')",
          "np.zeros((0, 3), dtype='f8')",
          "np.arange(30, dtype='i8').reshape(2, 3, 5)[:, ::-1, 1:4]",
        ];
        const cases = await py.run<[Uint8Array, Uint8Array[], unknown][]>(
          `
result = []
for expr in args["exprs"]:
    a = eval(expr)
    header, frames = serialize(a)
    assert header["serializer"] == "dask" and header["type"] == "numpy.ndarray", header
    result.append([msgpack.dumps(header, use_bin_type=True), [bytes(f) for f in frames], summary(a)])
`,
          { exprs },
        );
        cases.forEach(([headerBytes, frames, want], i) => {
          const header = decodeMsgpack(headerBytes) as Record<string, unknown>;
          assert.deepEqual(summary(deserializeNumpy(header, frames)), want, exprs[i]);
        });
        // Transposed 3×4 int64 keeps its Fortran layout on the wire.
        const transposed = decodeMsgpack(cases[4][0]) as { "sub-header": Record<string, unknown> };
        assert.deepEqual(transposed["sub-header"].shape, [4, 3]);
        assert.deepEqual(transposed["sub-header"].strides, [8, 32]);
        assert.equal(deserializeNumpy(transposed, cases[4][1]).order, "F");
        const broadcast = decodeMsgpack(cases[8][0]) as { "sub-header": Record<string, unknown> };
        assert.deepEqual(broadcast["sub-header"].broadcast_to, [4, 3]);
      });

      await t.step("our serializeNumpy output deserializes in Python to equal arrays", async () => {
        const broadcastFromPython = await py.run<[Uint8Array, Uint8Array[]]>(`
header, frames = serialize(np.broadcast_to(np.arange(3, dtype='i2'), (4, 3)))
result = [msgpack.dumps(header, use_bin_type=True), [bytes(f) for f in frames]]
`);
        const broadcast = deserializeNumpy(
          decodeMsgpack(broadcastFromPython[0]) as Record<string, unknown>,
          broadcastFromPython[1],
        );
        const cases: [NDArray, string][] = [
          [
            NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]),
            "np.arange(1, 7, dtype='f8').reshape(2, 3)",
          ],
          [
            NDArray.from(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3], { order: "F" }),
            "np.array([[1, 3, 5], [2, 4, 6]], dtype='i4')",
          ],
          [
            NDArray.from(Uint8Array.of(1, 0, 1), [3], { dtype: "|b1" }),
            "np.array([True, False, True])",
          ],
          [
            NDArray.from(BigInt64Array.of(0n, 86400n * 10n ** 9n), [2], { dtype: "<M8[ns]" }),
            "np.array(['1970-01-01', '1970-01-02'], dtype='M8[ns]')",
          ],
          [NDArray.from(new Float64Array([2.5]), []), "np.array(2.5)"],
          [broadcast, "np.broadcast_to(np.arange(3, dtype='i2'), (4, 3))"],
          [
            new NDArray("<f8", [3], [16], new Float64Array([0, 1, 2, 3, 4, 5])),
            "np.array([0., 2., 4.])",
          ],
          [
            new NDArray("<u2", [2, 3], [0, 4], Uint16Array.of(1, 9, 2, 9, 3)),
            "np.broadcast_to(np.array([1, 2, 3], dtype='u2'), (2, 3))",
          ],
          [NDArray.from(BigUint64Array.of(2n ** 64n - 1n)), "np.array([2**64 - 1], dtype='u8')"],
          [
            NDArray.from(new Float64Array([1, 2, 0, -1]), [2], { dtype: "<c16" }),
            "np.array([1 + 2j, -1j])",
          ],
          [
            NDArray.fromBytes(
              new Uint8Array(new Uint32Array([0x61, 0x62, 0x63, 0x64]).buffer),
              "<U2",
              [2],
            ),
            "np.array(['ab', 'cd'])",
          ],
          [NDArray.from(new Float32Array(0), [0, 4]), "np.zeros((0, 4), dtype='f4')"],
          [
            NDArray.from(new Int8Array([-1, 2, -3, 4, -5, 6, -7, 8]), [2, 2, 2], { order: "F" }),
            "np.asfortranarray(np.array([-1, 2, -3, 4, -5, 6, -7, 8], dtype='i1').reshape((2, 2, 2), order='F'))",
          ],
        ];
        const diffs = await py.run<(string | null)[]>(
          `
result = []
for header_bytes, frames, expr in args["cases"]:
    header = msgpack.loads(header_bytes, use_list=False, **msgpack_opts)
    got = deserialize(header, [bytearray(f) for f in frames])  # writable, as comm frames are
    want = eval(expr)
    result.append(strict_diff(got, want) or (None if want.size == 0 or 0 not in want.strides or got.strides == want.strides else f"strides {got.strides}"))
`,
          {
            cases: cases.map(([a, expr]) => {
              const { header, frames } = serializeNumpy(a);
              return [encodeMsgpack(header), frames, expr];
            }),
          },
        );
        cases.forEach(([, expr], i) => assert.equal(diffs[i], null, `${expr}: ${diffs[i]}`));
      });
    } finally {
      await py.close();
    }
  });
}
